"""VPN servers and their clients: status files in (``statusfile``, ``ingest``), state kept (``store``),
traffic, sessions, totals and certificates out (``reports``, ``certificates``). No HTTP here: the OpenVPN
Monitor dialect (``upstat.dialects.openvpn``) maps these to its document."""
