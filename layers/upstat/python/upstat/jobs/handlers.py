"""The scheduled jobs' bodies, one small function each, called by functions/<job>/handler.py.

Heavy imports stay inside the functions: a scheduled function imports only what its job needs (never
FastAPI).
"""

from __future__ import annotations

from typing import Any

from upstat.jobs.runner import JobContext, run_job

ROLLUP_OVERLAP_MS = 10 * 60 * 1000  # rebuild a little before the previous run, in case it stopped early


def _engine() -> Any:
    from upstat.store.client import get_redis
    from upstat.timeseries.retention import current_engine

    return current_engine(get_redis())


def _series_tick(ctx: JobContext, *, rebuild_from: int | None, trim: bool) -> Any:
    """One pass of the rollup or retention tick over every series, from where the last run stopped."""
    from upstat.timeseries.rollup import run_series_tick

    report = run_series_tick(
        _engine(),
        now=ctx.now_ms,
        deadline=ctx.deadline,
        rebuild_from=rebuild_from,
        trim=trim,
        start_shard=ctx.state.get("shard", 0),
        start_cursor=ctx.state.get("cursor", 0),
    )
    ctx.state.update(shard=report.shard, cursor=report.cursor)
    return report


def rollup(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Rebuild tier buckets from raw points since the previous run (idempotent), then evaluate the alert
    rules over the tiers and send their changes (each once, however many runs overlap)."""

    def body(ctx: JobContext) -> dict[str, Any]:
        report = _series_tick(
            ctx, rebuild_from=ctx.state.get("since", ctx.now_ms - ROLLUP_OVERLAP_MS), trim=False
        )
        if report.complete:
            ctx.state.update(since=ctx.now_ms - ROLLUP_OVERLAP_MS)
        return {"series": report.series, "complete": report.complete, "rules": _rules(ctx)}

    return run_job("rollup", context, body)


def _rules(ctx: JobContext) -> dict[str, int]:
    """Every enabled rule evaluated for the slot that just ended (writes keep the tiers current, so an
    unfinished series pass does not hold the rules back)."""
    from upstat.rules.run import evaluate_rules
    from upstat.store.client import get_redis

    return evaluate_rules(get_redis(), _engine(), now=ctx.now_ms, deadline=ctx.deadline)


def retention(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Drop whole chunks older than each tier's retention, in every series; trim uptime check logs."""

    def body(ctx: JobContext) -> dict[str, Any]:
        report = _series_tick(ctx, rebuild_from=None, trim=True)
        summary: dict[str, Any] = {"series": report.series, "complete": report.complete}
        if report.full:
            summary["skipped_memory_full"] = report.full
        summary.update(_uptime_retention(ctx))
        return summary

    return run_job("retention", context, body)


def _uptime_retention(ctx: JobContext) -> dict[str, Any]:
    from upstat.uptime.ticks import trim_check_logs

    return dict(trim_check_logs(now_ms=ctx.now_ms, deadline=ctx.deadline))


def ping(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check every due service (or fan batches out to workers past the threshold), one tick under the
    "ping" job lock and time budget, with the devices' silence sweep; then alert the backup jobs that missed
    their schedule, and tell the status page's subscribers of maintenance that started or ended (this
    function may publish alerts; the others may not)."""

    def body(ctx: JobContext) -> dict[str, Any]:
        from upstat.store.client import get_redis
        from upstat.uptime.ticks import run_flap_sweep, run_ping_tick

        summary = run_ping_tick(get_redis(), now_ms=ctx.now_ms, deadline=ctx.deadline)
        settled = run_flap_sweep(get_redis(), now_ms=ctx.now_ms, deadline=ctx.deadline)
        return {**summary, **_device_sweep(ctx), **({"settled": settled} if settled else {})}

    summary = run_job("ping", context, body)
    summary["backups"] = backup_schedules(event, context)
    summary["subscribers"] = subscriber_events(event, context)
    return summary


def subscriber_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Maintenance windows that started or ended lately, POSTed to the status page's subscribers once."""

    def body(ctx: JobContext) -> dict[str, Any]:
        from upstat.store.client import get_redis
        from upstat.uptime.subscribers import sweep_windows

        return sweep_windows(get_redis(), now=ctx.now_ms, deadline=ctx.deadline)

    return run_job("subscriber-events", context, body)


def backup_schedules(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One alert per missed run of each scheduled backup job (claimed once: repeated ticks send it once)."""

    def body(ctx: JobContext) -> dict[str, Any]:
        from upstat.backups.schedule import alert_overdue
        from upstat.store.client import get_redis

        return alert_overdue(get_redis(), _engine(), now=ctx.now_ms, deadline=ctx.deadline)

    return run_job("backup-schedules", context, body)


def _device_sweep(ctx: JobContext) -> dict[str, Any]:
    """Devices silent past their silence period become critical (alerted once each); old Wi-Fi sessions go."""
    from upstat.config import get_settings
    from upstat.devices.health import Thresholds
    from upstat.devices.monitoring import sweep_silent
    from upstat.store.client import get_redis

    settings = get_settings()
    changed = sweep_silent(
        get_redis(), now=ctx.now_ms, thresholds=Thresholds.from_settings(settings), settings=settings
    )
    return {"devices_critical": changed}


def ping_worker(event: dict[str, Any], context: Any, *, ssl_context: Any = None) -> dict[str, Any]:
    """Check the services of the SQS batches the ping job fanned out (``ssl_context``: tests' local CA)."""
    import time

    from upstat.jobs.budget import budget_seconds
    from upstat.store.client import get_redis
    from upstat.uptime.ticks import check_batches

    deadline = time.monotonic() + budget_seconds(context)
    return check_batches(get_redis(), event.get("Records", []), deadline=deadline, ssl_context=ssl_context)


def openvpn(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Read the configured OpenVPN status files (each stored once per file time) and certificates."""

    def body(ctx: JobContext) -> dict[str, Any]:
        return run_openvpn_pull(now=ctx.now_ms, deadline=ctx.deadline)

    return run_job("openvpn", context, body)


def run_openvpn_pull(*, now: int, deadline: float | None = None, **fetch_options: Any) -> dict[str, Any]:
    """One pull: every ``UPSTAT_OPENVPN_STATUS_SOURCES`` file, then ``UPSTAT_OPENVPN_CERTIFICATES``."""
    from upstat.config import get_settings
    from upstat.jobs.vpn_pull import FetchFailed, fetch, s3_files
    from upstat.store.client import get_redis
    from upstat.vpn.pull import PullReport, parse_locations, pull_certificates, pull_status_files
    from upstat.vpn.store import vpn_store

    settings = get_settings()
    locations = parse_locations(settings.openvpn_status_sources)
    if not locations and not settings.openvpn_certificates:
        return {"skipped": "no UPSTAT_OPENVPN_STATUS_SOURCES or UPSTAT_OPENVPN_CERTIFICATES"}
    client = get_redis()
    store = vpn_store(client, settings.key_prefix)
    report = PullReport()
    if locations:
        report = pull_status_files(
            client,
            _engine(),
            store,
            locations,
            lambda url: fetch(url, settings=settings, **fetch_options),
            now=now,
            tz=settings.openvpn_status_tz,
            deadline=deadline,
        )
    if settings.openvpn_certificates:
        try:
            pull_certificates(
                store, s3_files(settings.openvpn_certificates, settings=settings), now=now, report=report
            )
        except FetchFailed as exc:
            report.failed["certificates"] = str(exc)
    return report.summary()
