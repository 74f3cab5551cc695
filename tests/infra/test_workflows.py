"""The GitHub workflows and the bootstrap template, read as GitHub and CloudFormation read them: pinned
actions, both Pythons, one package per run deployed as built, a smoke test, prod only from version tags,
and a deploy role GitHub can assume only from the stage's environment."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functions.test_serverless_config import load

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def every_step() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f.name, s)
        for f in sorted(WORKFLOWS.glob("*.yml"))
        for j in workflow(f.name)["jobs"].values()
        for s in steps(j)
    ]


def test_every_action_is_pinned_by_commit_with_its_release_named() -> None:
    uses = [(name, s["uses"]) for name, s in every_step() if "uses" in s]
    assert uses
    for name, ref in uses:
        assert PIN.match(ref), f"{name}: {ref} is not pinned by a commit SHA"
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            if re.search(r"uses: [\w.-]+/[\w.-]+@", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line.strip()}"


def test_node_is_22_or_later_wherever_it_is_set_up() -> None:
    ci = workflow("ci.yml")
    for name, step in every_step():
        if "actions/setup-node@" in step.get("uses", ""):
            version = str(step["with"]["node-version"]).replace(
                "${{ env.NODE_VERSION }}", ci["env"]["NODE_VERSION"]
            )
            assert int(version.split(".")[0]) >= 22, name


def test_ci_tests_on_3_11_and_3_13_with_uv_cached_and_the_lock_enforced() -> None:
    test = workflow("ci.yml")["jobs"]["test"]
    assert set(test["strategy"]["matrix"]["python"]) == {"3.11", "3.13"}
    uv = [s for s in steps(test) if "astral-sh/setup-uv@" in s.get("uses", "")]
    assert uv and uv[0]["with"]["enable-cache"] is True
    sync = [s for s in steps(test) if s.get("name") == "uv sync --locked"]
    assert sync and "make install" in sync[0]["run"] and "PYTHON=python${{ matrix.python }}" in sync[0]["run"]
    assert "sync --locked" in (ROOT / "Makefile").read_text()


def test_ci_runs_the_whole_suite_on_a_redis_cluster_in_a_job_of_its_own() -> None:
    jobs = workflow("ci.yml")["jobs"]
    running = [
        name for name, job in jobs.items() for s in steps(job) if "make test-cluster" in s.get("run", "")
    ]
    assert running == ["test-cluster"]
    assert "make pytest" not in str(jobs["test-cluster"]) and "make package" not in str(jobs["test-cluster"])
    done = subprocess.run(
        [
            "make",
            "-n",
            "-o",
            ".venv/.synced",
            "-o",
            "chromium",
            "-o",
            "openvpn",
            "-o",
            "flowtools",
            "test-cluster",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert 'UPSTAT_TEST_REDIS=cluster .venv/bin/pytest -m "not packaged"' in done.stdout


def test_one_run_packages_once_and_deploys_that_package() -> None:
    ci = workflow("ci.yml")
    packaging = [
        name for name, job in ci["jobs"].items() for s in steps(job) if "make package" in s.get("run", "")
    ]
    assert packaging == ["package"]
    assert not any(
        re.search(r"make (\S+ )*test(?![\w-])", s.get("run", "")) for _, s in every_step()
    )  # test = package too (test-cluster is another target: the tests alone, on a cluster)
    upload = next(s for s in steps(ci["jobs"]["package"]) if "upload-artifact@" in s.get("uses", ""))
    deploy = workflow("deploy.yml")["jobs"]["deploy"]
    download = next(s for s in steps(deploy) if "download-artifact@" in s.get("uses", ""))
    assert upload["with"]["name"].replace("inputs.stage || 'ci'", "env.STAGE") == download["with"]["name"]
    assert upload["with"]["include-hidden-files"] is True
    run = next(s for s in steps(deploy) if "infra/deploy.sh" in s.get("run", ""))
    assert run["env"]["PACKAGE_DIR"] == download["with"]["path"] == ".serverless"
    assert deploy["needs"] == ["stage", "ci"]


def test_a_smoke_test_follows_every_deploy() -> None:
    script = (ROOT / "infra" / "deploy.sh").read_text()
    assert script.index("osls deploy") < script.index("infra/smoke.py")
    deploy = workflow("deploy.yml")["jobs"]["deploy"]
    run = next(s for s in steps(deploy) if "infra/deploy.sh" in s.get("run", ""))
    assert run["env"]["SMOKE_REQUIRE_TOKEN"] == "1"
    assert run["env"]["UPSTAT_SMOKE_TOKEN"] == "${{ secrets.UPSTAT_SMOKE_TOKEN }}"


def pick_stage(tmp_path: Path, event: str, ref: str, chosen: str = "") -> tuple[int, dict[str, str], str]:
    """Run the deploy workflow's stage-picking step as the runner would (bash, its env, GITHUB_OUTPUT)."""
    [step] = steps(workflow("deploy.yml")["jobs"]["stage"])
    output = tmp_path / "output"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)}
    env.update(EVENT=event, CHOSEN=chosen, REF=ref, REGION="eu-west-1")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done.returncode, values, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("event", "ref", "chosen", "stage"),
    [
        ("push", "refs/heads/main", "", "dev"),
        ("push", "refs/tags/v1.4.0", "", "prod"),
        ("workflow_dispatch", "refs/heads/main", "dev", "dev"),
        ("workflow_dispatch", "refs/tags/v1.4.0", "prod", "prod"),
    ],
)
def test_the_stage_a_run_deploys(tmp_path: Path, event: str, ref: str, chosen: str, stage: str) -> None:
    code, values, _ = pick_stage(tmp_path, event, ref, chosen)
    assert code == 0 and values == {"stage": stage, "region": "eu-west-1"}


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/heads/hotfix", "refs/tags/release-1"])
def test_prod_by_hand_from_anything_but_a_version_tag_is_refused(tmp_path: Path, ref: str) -> None:
    code, values, out = pick_stage(tmp_path, "workflow_dispatch", ref, "prod")
    assert code != 0 and values == {}
    assert "only from a version tag" in out
    guard = steps(workflow("deploy.yml")["jobs"]["deploy"])[0]
    assert guard["if"] == "env.STAGE == 'prod' && !startsWith(github.ref, 'refs/tags/v')"


def test_only_the_deploy_job_may_ask_for_aws_credentials() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        data = workflow(path.name)
        assert data["permissions"] == {"contents": "read"}, path.name
        for name, job in data["jobs"].items():
            granted = job.get("permissions", {})
            assert ("id-token" in granted) == (path.name == "deploy.yml" and name == "deploy"), (
                path.name,
                name,
            )


# --- the bootstrap template (OIDC deploy role) -------------------------------------------------------------


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Any]:
    return load("infra/bootstrap.yml")


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_github_may_assume_the_deploy_role_only_from_the_stage_environment(bootstrap: dict[str, Any]) -> None:
    [trust] = bootstrap["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    condition = trust["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert condition["token.actions.githubusercontent.com:sub"] == {
        "Fn::Sub": "repo:${GitHubRepository}:environment:${Stage}"
    }
    assert "StringLike" not in trust["Condition"]  # no wildcard subject


def test_the_deploy_role_drives_cloudformation_and_nothing_else(bootstrap: dict[str, Any]) -> None:
    allowed_services = {"cloudformation", "s3", "lambda", "logs", "iam"}
    for s in statements(bootstrap["Resources"]["DeployRole"]):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        for action in actions:
            service, _, verb = action.partition(":")
            assert service in allowed_services and "*" not in verb, action
            if service == "iam":
                assert action == "iam:PassRole"
                assert s["Condition"]["StringEquals"]["iam:PassedToService"] == "cloudformation.amazonaws.com"
                assert s["Resource"] == {"Fn::GetAtt": "CloudFormationRole.Arn"}
            if service == "lambda":
                assert action == "lambda:GetFunction"
        if s["Resource"] == "*":
            assert sorted(actions) == ["cloudformation:ListExports", "cloudformation:ValidateTemplate"]
        elif actions != ["iam:PassRole"]:
            assert "upstat-${Stage}" in str(s["Resource"]), s["Sid"]


def test_the_cloudformation_role_is_scoped_to_the_stage(bootstrap: dict[str, Any]) -> None:
    unscoped = set()
    for s in statements(bootstrap["Resources"]["CloudFormationRole"]):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not any(a.endswith(":*") or a == "*" for a in actions), s["Sid"]
        if "upstat-${Stage}" not in str(s["Resource"]) and "/upstat/${Stage}/" not in str(s["Resource"]):
            unscoped.add(s["Sid"])
    # Those the services cannot scope by name, each commented in the template.
    assert unscoped == {
        "PingQueueEventSource",
        "EventSourceListing",
        "ElastiCacheServiceLinkedRole",
        "AccessLogDelivery",
        "Schedules",
        "HttpApi",
        "CustomDomainCertificate",
        "VpcPlacementAndEndpoints",
    }


def test_the_bootstrap_template_passes_cfn_lint_in_seven_regions() -> None:
    regions = ["eu-west-1", "us-east-1", "us-west-2", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]
    regions.append("sa-east-1")
    cfn_lint = ROOT / ".venv" / "bin" / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--regions", *regions, "--include-checks", "I", "--", "infra/bootstrap.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
