"""Lambda entry point of the scheduled OpenVPN pull (EventBridge Scheduler): status files and certificates."""

from upstat.jobs.handlers import openvpn as _job


def handler(event, context):
    return _job(event, context)
