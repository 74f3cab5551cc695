"""Lambda entry point of the split layout's checker (outside the VPC): SQS batches of check requests."""

from upstat.jobs.split import checker as _job


def handler(event, context):
    return _job(event, context)
