"""Notification channels: where alerts go besides the SNS topic and the signed webhooks.

A channel is a configured object (``/v1/channels``): a kind (Slack, Discord, Teams, Telegram, email, ntfy,
PagerDuty, Opsgenie, a signed webhook, an SNS topic), a name, a time zone for its messages, whether it is in
the default set, and the kind's settings, whose secrets are stored encrypted (:mod:`.sealing`). Alerts
reach channels through the one alert path (``upstat.uptime.alerts.send_alerts``: claimed once per
transition, then delivered once per channel, :mod:`.delivery`), flap control first (:mod:`.flap`).

- :mod:`.models`   what a client sends and what is stored, per kind; masking of secrets
- :mod:`.store`    the channels in Redis (one hash)
- :mod:`.messages` the text of a message and each service's payload (pure)
- :mod:`.send`     the outbound HTTP (SSRF guard, retries with backoff) and SES
"""
