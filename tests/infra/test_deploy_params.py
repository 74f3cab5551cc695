"""infra/params.sh: the environment of a deploy by hand becomes the same `--param` options for the package
and the deploy (infra/deploy.sh), each naming a parameter serverless.yml declares."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.functions.test_serverless_config import load

ROOT = Path(__file__).resolve().parents[2]


def params(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_") and k != "ARCH"}
    out = subprocess.run(
        ["bash", str(ROOT / "infra" / "params.sh")],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.splitlines()


def test_only_the_architecture_when_nothing_is_set() -> None:
    assert params() == ["--param=arch=arm64"]


def test_redis_cluster_and_the_network_pass_through() -> None:
    got = params(
        UPSTAT_REDIS_CLUSTER="true",
        UPSTAT_NETWORK="vpc",
        UPSTAT_SUBNET_IDS="subnet-1,subnet-2",
        UPSTAT_CACHE="elasticache",
        UPSTAT_LAYOUT="split",
        ARCH="x86_64",
    )
    assert got == [
        "--param=arch=x86_64",
        "--param=network=vpc",
        "--param=subnetIds=subnet-1,subnet-2",
        "--param=cache=elasticache",
        "--param=redisCluster=true",
        "--param=layout=split",
    ]


def test_an_empty_variable_keeps_the_stage_value() -> None:
    assert params(UPSTAT_CACHE="", UPSTAT_REDIS_CLUSTER="") == ["--param=arch=arm64"]


def test_every_variable_maps_to_a_parameter_serverless_yml_declares() -> None:
    every = {
        "UPSTAT_NETWORK": "vpc",
        "UPSTAT_SUBNET_IDS": "s",
        "UPSTAT_SECURITY_GROUP_IDS": "g",
        "UPSTAT_VPC_ID": "v",
        "UPSTAT_VPC_ENDPOINTS": "true",
        "UPSTAT_CACHE": "elasticache",
        "UPSTAT_REDIS_CLUSTER": "true",
        "UPSTAT_LAYOUT": "split",
        "UPSTAT_ALARM_EMAIL": "ops@example.com",
        "UPSTAT_CFN_ROLE_ARN": "arn:aws:iam::123456789012:role/x",
    }
    names = [line.removeprefix("--param=").split("=", 1)[0] for line in params(**every)]
    assert len(names) == len(every) + 1
    declared = set(load("serverless.yml")["params"]["default"])
    declared.add("cfnRoleArn")  # serverless.yml reads it with a null fallback: ${param:cfnRoleArn, null}
    assert set(names) <= declared
    assert "${param:cfnRoleArn, null}" in (ROOT / "serverless.yml").read_text()


def test_the_deploy_script_uses_them_for_the_package_and_the_deploy() -> None:
    script = (ROOT / "infra" / "deploy.sh").read_text()
    assert "infra/params.sh" in script
    assert 'infra/package.sh "${params[@]}"' in script
    assert '--package "$PACKAGE_DIR" "${params[@]}"' in script
