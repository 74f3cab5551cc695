"""Scheduled jobs: each is an idempotent tick run by one Lambda function on an EventBridge schedule.

``SCHEDULES`` is the one list of jobs: serverless.yml declares the same names and rates, and ``make run``
fires the same handlers in-process with EventBridge-shaped events on these rates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    rate_seconds: int
    target: str  # "module:function" taking (event, context) and returning a JSON-able summary


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("ping", 60, "upstat.jobs.handlers:ping"),
    Schedule("rollup", 300, "upstat.jobs.handlers:rollup"),
    Schedule("retention", 3600, "upstat.jobs.handlers:retention"),
    Schedule("openvpn", 60, "upstat.jobs.handlers:openvpn"),
)
