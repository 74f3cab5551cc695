"""Lambda entry point of the split layout's writer (inside the VPC): SQS batches of check results."""

from upstat.jobs.split import writer as _job


def handler(event, context):
    return _job(event, context)
