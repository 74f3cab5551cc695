"""One typed settings object, read from the environment once per process.

Every setting is listed in README.md with its default. No other module reads ``os.environ``.

The environment is read by a dozen lines here into a plain pydantic model rather than through
pydantic-settings: that package's import (its dotenv, CLI and cloud-secret sources) cost about 0.3 s of
every cold start, scheduled functions included, for features we do not use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "UPSTAT_"
# Settings read from an unprefixed variable first (the names platforms and tools already use).
ENV_NAMES = {"port": ("PORT", "UPSTAT_PORT"), "redis_url": ("REDIS_URL", "UPSTAT_REDIS_URL")}

# Default tiers and their retention, coarsest last. Why these numbers:
# - raw 48 h: enough to backfill a device that was offline over a weekend night, and to give exact
#   percentiles for any range up to 24 h;
# - 5 min 14 d and 15 min 35 d: the 15-minute tier makes the OpenVPN analytics buckets (105 min = 7 x 15,
#   450 min = 30 x 15) exact over 30 days;
# - 1 h 90 d: the 90-day uptime bars; 6 h 400 d: a year of 30-day charts; 1 day: kept for ever.
DEFAULT_TIERS = "5m,15m,1h,6h,1d"
DEFAULT_RETENTION = "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0"


class Settings(BaseModel):
    """Process settings: field ``x`` is read from ``UPSTAT_X`` (``port`` and ``redis_url`` from ``PORT`` and
    ``REDIS_URL`` first)."""

    model_config = ConfigDict(extra="ignore")

    port: int = Field(8000, ge=1, le=65535)
    redis_url: str | None = None
    redis_url_ssm_parameter: str | None = None
    redis_cluster: bool = False
    key_prefix: str = "upstat:"
    redis_socket_timeout: float = Field(5.0, gt=0)
    redis_connect_timeout: float = Field(3.0, gt=0)
    redis_retries: int = Field(3, ge=0, le=10)

    tiers: str = DEFAULT_TIERS
    retention: str = DEFAULT_RETENTION

    job_time_budget_s: float = Field(50.0, gt=0)

    admin_token: str | None = None
    admin_token_ssm_parameter: str | None = None
    allowed_targets: str = ""

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    public_status_page: bool = True
    public_read: bool = False
    key_cache_seconds: float = Field(5.0, ge=0, le=60)
    rate_limit_per_key: int = Field(600, ge=1)
    rate_limit_per_ip: int = Field(300, ge=1)
    rate_limit_window_s: int = Field(60, ge=1)

    alerts_topic_arn: str | None = None
    webhook_secret: str | None = None
    ping_fanout_threshold: int = Field(500, ge=1)
    ping_queue_url: str | None = None
    ping_concurrency: int = Field(200, ge=1, le=5000)
    # Uptime check logs: default age bound (seconds, 0 = unlimited; PATCH /api/ping-history/ttl overrides it
    # at run time) and a cap on entries per service whatever the age (a 30 s interval makes 86,400 a month).
    history_ttl_s: int = Field(30 * 86400, ge=0)
    check_log_max_entries: int = Field(100_000, ge=100)
    # Webhooks every alert is POSTed to (comma-separated), besides each service's own.
    alert_webhooks: str = ""
    ping_batch_size: int = Field(50, ge=1, le=500)

    @field_validator("key_prefix")
    @classmethod
    def _no_braces(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("key prefix must not contain '{' or '}' (they would change the cluster slot)")
        return value


def env_names(field: str) -> tuple[str, ...]:
    """The environment variables a setting is read from, first found wins."""
    return ENV_NAMES.get(field, (ENV_PREFIX + field.upper(),))


def from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from environment variables (an empty value counts as unset); a bad value is a ValueError
    naming the variable."""
    values: dict[str, str] = {}
    for field in Settings.model_fields:
        for name in env_names(field):
            if environ.get(name):
                values[field] = environ[name]
                break
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{env_names(str(e['loc'][0]))[0] if e['loc'] else 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return from_env(os.environ)
