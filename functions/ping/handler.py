"""Lambda entry point of the scheduled ping job (EventBridge Scheduler)."""

from upstat.jobs.handlers import ping as _job


def handler(event, context):
    return _job(event, context)
