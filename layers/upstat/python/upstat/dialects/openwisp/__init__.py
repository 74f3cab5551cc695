"""OpenWISP's monitoring API (openwisp-monitoring's REST API; README "OpenWISP Monitoring") at
``/api/v1/monitoring``: the monitoring agent's NetJSON reports in, devices' charts, health, dashboard, nearby
devices and Wi-Fi sessions out. The router is :mod:`.routes`, the document's fields :mod:`.models`; the
domain (upstat.devices, upstat.sources) does the work.
"""

from upstat.dialects.openwisp.routes import router

__all__ = ["router"]
