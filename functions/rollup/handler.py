"""Lambda entry point of the scheduled rollup job (EventBridge Scheduler)."""

from upstat.jobs.handlers import rollup as _job


def handler(event, context):
    return _job(event, context)
