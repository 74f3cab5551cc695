"""Lambda entry point of the ping workers: SQS batches of due services fanned out by the ping job."""

from upstat.jobs.handlers import ping_worker as _job


def handler(event, context):
    return _job(event, context)
