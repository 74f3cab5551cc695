"""upstat: serverless uptime monitoring and time-series stats on Redis."""

__version__ = "0.1.0"
