"""One typed settings object, read from the environment once per process.

Every setting is listed in README.md with its default. No other module reads ``os.environ``.

Settings is a frozen dataclass filled by a few lines here rather than a pydantic(-settings) model: the
scheduled functions import only this, redis and their job, and pydantic's import plus a model build cost
about 0.25 s of each of their cold starts (pydantic-settings another 0.3 s), for a dozen numbers and
strings. Types and bounds are still checked, and a bad value names its variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

ENV_PREFIX = "UPSTAT_"
# Settings read from an unprefixed variable first (the names platforms and tools already use).
ENV_NAMES = {
    "port": ("PORT", "UPSTAT_PORT"),
    "redis_url": ("REDIS_URL", "UPSTAT_REDIS_URL"),
    # Set by Lambda: "snap-start" while it initializes a function whose snapshot it will restore.
    "lambda_initialization_type": ("AWS_LAMBDA_INITIALIZATION_TYPE",),
}

# Default tiers and their retention, coarsest last. Why these numbers:
# - raw 48 h: enough to backfill a device that was offline over a weekend night, and to give exact
#   percentiles for any range up to 24 h;
# - 5 min 14 d and 15 min 35 d: the 15-minute tier makes the OpenVPN analytics buckets (105 min = 7 x 15,
#   450 min = 30 x 15) exact over 30 days;
# - 1 h 90 d: the 90-day uptime bars; 6 h 400 d: a year of 30-day charts; 1 day: kept for ever.
DEFAULT_TIERS = "5m,15m,1h,6h,1d"
DEFAULT_RETENTION = "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0"


@dataclass(frozen=True)
class Settings:
    """Process settings: field ``x`` is read from ``UPSTAT_X`` (``port`` and ``redis_url`` from ``PORT`` and
    ``REDIS_URL`` first). Bounds are in ``BOUNDS``."""

    port: int = 8000
    # "snap-start" when Lambda snapshots the initialized function: the API then builds every route before
    # the snapshot (restoring is as cheap either way) instead of when a request first needs them.
    lambda_initialization_type: str = ""
    redis_url: str | None = None
    redis_url_ssm_parameter: str | None = None
    redis_cluster: bool = False
    key_prefix: str = "upstat:"
    redis_socket_timeout: float = 5.0
    redis_connect_timeout: float = 3.0
    redis_retries: int = 3

    tiers: str = DEFAULT_TIERS
    retention: str = DEFAULT_RETENTION

    job_time_budget_s: float = 50.0

    admin_token: str | None = None
    admin_token_ssm_parameter: str | None = None
    allowed_targets: str = ""

    max_body_bytes: int = 1024 * 1024
    # Routes that take batches (POST /v1/api/flows: 10,000 goflow2 records are ~9 MB) have their own limit,
    # on the body as sent and as decoded (gzip): see api/app.py BODY_LIMITS.
    max_flow_body_bytes: int = 16 * 1024 * 1024
    # Origins (comma-separated, or *) whose browser pages may call the API (CORS); empty: none.
    cors_origins: str = ""
    public_status_page: bool = True
    # The status page's name: its title and the text of its logo (the page shows it in the header).
    status_page_title: str = "Service status"
    public_read: bool = False
    # GET /metrics without a key (for a Prometheus that scrapes without credentials); off: a read key.
    metrics_public: bool = False
    key_cache_seconds: float = 5.0
    rate_limit_per_key: int = 600
    rate_limit_per_ip: int = 300
    rate_limit_window_s: int = 60
    # Beats per window one push token may send (a job beating far faster than its interval is throttled).
    rate_limit_per_push_token: int = 30
    # Addresses (comma-separated IPs or networks) of reverse proxies whose X-Forwarded-For `make run` trusts.
    # Empty (the default): the connecting address is the client's. On Lambda, API Gateway's sourceIp is.
    trusted_proxies: str = ""

    alerts_topic_arn: str | None = None
    webhook_secret: str | None = None
    webhook_secret_ssm_parameter: str | None = None
    ping_fanout_threshold: int = 500
    ping_queue_url: str | None = None
    ping_concurrency: int = 200
    # The split layout (README "Deployment"): set, the ping job probes nothing itself; it hands each due
    # check to the checker function (outside the VPC) through this queue, and the checker hands the results
    # to the writer function (inside it) through the result queue.
    check_queue_url: str | None = None
    result_queue_url: str | None = None
    # Uptime check logs: default age bound (seconds, 0 = unlimited; PATCH /api/ping-history/ttl overrides it
    # at run time) and a cap on entries per service whatever the age (a 30 s interval makes 86,400 a month).
    history_ttl_s: int = 30 * 86400
    check_log_max_entries: int = 100_000
    # Webhooks every alert is POSTed to (comma-separated), besides each service's own.
    alert_webhooks: str = ""
    ping_batch_size: int = 50
    # Notification channels (upstat.notify): the Fernet key their secrets are stored encrypted with (or the
    # SSM SecureString parameter holding it), the public base URL their messages link to (the status page
    # is <base>/status), the services' API base URLs (tests point them at 127.0.0.1), and flap control: a
    # subject changing state more than flap_changes times within flap_window_s sends one "flapping" message,
    # then a summary once it has been quiet that long (0 changes: off).
    channel_key: str | None = None
    channel_key_ssm_parameter: str | None = None
    public_base_url: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_api_url: str = "https://api.opsgenie.com"
    ntfy_url: str = "https://ntfy.sh"
    flap_changes: int = 5
    flap_window_s: int = 600
    # OpenVPN status files read every minute by the openvpn job: server=s3://bucket/key or server=https://...
    # pairs, comma-separated; the zone of times a file writes only as text; certificates under s3://bucket/prefix
    openvpn_status_sources: str = ""
    openvpn_status_tz: str = "UTC"
    openvpn_certificates: str = ""
    # Device health (upstat.devices.health, OpenWISP's defaults): a threshold metric above its bound is a
    # problem; a device silent this long is critical.
    device_memory_threshold: float = 95.0
    device_cpu_threshold: float = 90.0
    device_disk_threshold: float = 90.0
    device_silence_s: int = 3600

    # CloudWatch metrics (upstat.metrics): written as embedded-metric-format log lines when a namespace is
    # set (the deployed stack sets it); ``stage`` is their one dimension.
    metrics_namespace: str = ""
    stage: str = "local"

    @property
    def metrics_readable_by_anyone(self) -> bool:
        """GET /metrics is public: its own setting, or every read route public (``UPSTAT_PUBLIC_READ``)."""
        return self.metrics_public or self.public_read

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if value < low or (high is not None and value > high):
                top = f" and at most {high}" if high is not None else ""
                raise ValueError(f"{env_names(name)[0]}: must be at least {low}{top}, got {value}")
        if not self.status_page_title.strip() or len(self.status_page_title) > 100:
            raise ValueError("UPSTAT_STATUS_PAGE_TITLE: must be 1 to 100 characters, not only spaces")
        if "{" in self.key_prefix or "}" in self.key_prefix:
            raise ValueError(
                "UPSTAT_KEY_PREFIX: must not contain '{' or '}' (they would change the cluster slot)"
            )


# (lowest, highest) accepted; a float's lowest is exclusive when it is 0 (a timeout of 0 means nothing).
BOUNDS: dict[str, tuple[float, float | None]] = {
    "port": (1, 65535),
    "redis_socket_timeout": (0.001, None),
    "redis_connect_timeout": (0.001, None),
    "redis_retries": (0, 10),
    "job_time_budget_s": (1, None),
    "max_body_bytes": (1024, None),
    "max_flow_body_bytes": (1024, None),
    "key_cache_seconds": (0, 60),
    "rate_limit_per_key": (1, None),
    "rate_limit_per_ip": (1, None),
    "rate_limit_window_s": (1, None),
    "rate_limit_per_push_token": (1, None),
    "ping_fanout_threshold": (1, None),
    "ping_concurrency": (1, 5000),
    "history_ttl_s": (0, None),
    "check_log_max_entries": (100, None),
    "ping_batch_size": (1, 500),
    "flap_changes": (0, 1000),
    "flap_window_s": (60, 86_400),
    "device_memory_threshold": (0, 100),
    "device_cpu_threshold": (0, None),
    "device_disk_threshold": (0, 100),
    "device_silence_s": (60, None),
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_names(field: str) -> tuple[str, ...]:
    """The environment variables a setting is read from, first found wins."""
    return ENV_NAMES.get(field, (ENV_PREFIX + field.upper(),))


def _convert(kind: str, text: str) -> Any:
    if kind == "bool":
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError("must be true or false")
    if kind == "int":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("must be an integer") from None
    if kind == "float":
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("must be a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return value
    return text


def from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from environment variables (an empty value counts as unset); a bad value is a ValueError
    naming the variable."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        for name in env_names(f.name):
            if environ.get(name):
                try:
                    values[f.name] = _convert(str(f.type).split(" ")[0], environ[name])
                except ValueError as exc:
                    raise ValueError(f"invalid configuration: {name}: {exc}, got {environ[name]!r}") from None
                break
    try:
        return Settings(**values)
    except ValueError as exc:
        raise ValueError(f"invalid configuration: {exc}") from None


def setting_names() -> list[str]:
    """Every setting's field name, in declaration order."""
    return [f.name for f in fields(Settings)]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return from_env(os.environ)
