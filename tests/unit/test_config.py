"""Settings come from the environment, with the README's defaults and clear errors naming the variable."""

from __future__ import annotations

import pytest

from upstat.config import from_env, setting_names


def test_defaults_are_the_documented_ones() -> None:
    s = from_env({})
    assert (s.port, s.redis_url, s.redis_cluster, s.key_prefix) == (8000, None, False, "upstat:")
    assert s.retention == "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0" and s.max_body_bytes == 1024 * 1024
    assert s.public_status_page is True and s.public_read is False


def test_unprefixed_port_and_redis_url_win_and_prefixed_names_work() -> None:
    s = from_env({"PORT": "9001", "UPSTAT_PORT": "9002", "REDIS_URL": "rediss://cache:6380/0"})
    assert s.port == 9001 and s.redis_url == "rediss://cache:6380/0"
    s = from_env(
        {"UPSTAT_REDIS_CLUSTER": "true", "UPSTAT_RATE_LIMIT_PER_KEY": "5", "UPSTAT_PUBLIC_READ": "1"}
    )
    assert s.redis_cluster is True and s.rate_limit_per_key == 5 and s.public_read is True


def test_empty_values_count_as_unset() -> None:
    assert from_env({"UPSTAT_JOB_TIME_BUDGET_S": "", "REDIS_URL": ""}).job_time_budget_s == 50.0


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "0"}, "PORT"),
        ({"UPSTAT_RATE_LIMIT_PER_KEY": "many"}, "UPSTAT_RATE_LIMIT_PER_KEY"),
        ({"UPSTAT_KEY_PREFIX": "up{stat}:"}, "UPSTAT_KEY_PREFIX"),
        ({"UPSTAT_REDIS_CLUSTER": "perhaps"}, "UPSTAT_REDIS_CLUSTER"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        from_env(env)


def test_every_setting_is_in_the_readme() -> None:
    from pathlib import Path

    from upstat.config import env_names

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [env_names(f)[0] for f in setting_names() if f"`{env_names(f)[0]}`" not in readme]
    assert missing == []
