"""Lambda entry point of the scheduled retention job (EventBridge Scheduler)."""

from upstat.jobs.handlers import retention as _job


def handler(event, context):
    return _job(event, context)
