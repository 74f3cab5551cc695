"""The document's request and response fields: the NetJSON DeviceMonitoring report as OpenWISP's schema
states it (every rule in the OpenAPI document, so the contract test can hold upstat to it), and the bodies
the monitoring API answers (DRF's names, snake_case, times in ISO 8601)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from upstat.devices.netjson import MAX_INTERFACE_NAME
from upstat.wire import StrictBool, StrictStr, WholeInt, name_type

EXAMPLE_ID = "9f2c1e0a-5b7d-4c3e-8a11-2d4f6b8c0e13"
EXAMPLE_ORG = "0c2c42d7-5ea7-4a7a-9c2e-2f4f4f6b2a11"
DEVICE_EXAMPLE: dict[str, Any] = {
    "id": EXAMPLE_ID,
    "name": "ap-lobby",
    "organization": EXAMPLE_ORG,
    "organization_slug": "acme",
    "group": "lobby",
    "mac_address": None,
    "management_ip": None,
    "model": "TP-Link Archer C7",
    "os": None,
    "system": None,
    "notes": None,
    "monitoring": {"status": "ok", "status_label": "ok"},
    "created": "2026-08-22T14:05:00.000Z",
    "modified": "2026-08-22T14:05:00.000Z",
}
X_EXAMPLE: list[Any] = ["2026-08-22T13:00:00.000Z", "2026-08-22T14:00:00.000Z"]
TRAFFIC_EXAMPLE: dict[str, Any] = {
    "key": "traffic",
    "title": "Traffic: eth0",
    "type": "stackedbar",
    "unit": "bytes",
    "interface": "eth0",
    "summary": {"rx_bytes": 5000.0, "tx_bytes": 700.0},
    "traces": [["rx_bytes", [0.0, 5000.0]], ["tx_bytes", [0.0, 700.0]]],
}
MEMORY_EXAMPLE: dict[str, Any] = {
    "key": "memory",
    "title": "Memory Usage",
    "type": "scatter",
    "unit": "%",
    "interface": None,
    "summary": {"percent_used": 48.4375},
    "traces": [["percent_used", [None, 48.4375]]],
}
SESSION_EXAMPLE: dict[str, Any] = {
    "id": "5d1c7f0e-2b7a-4c55-9e0f-3a8b6c1d2e4f",
    "organization": EXAMPLE_ORG,
    "device": "ap-lobby",
    "device_id": EXAMPLE_ID,
    "ssid": "office",
    "interface_name": "wlan0",
    "client": {
        "mac_address": "a4:5e:60:11:22:33",
        "vendor": None,
        "wifi6": "False",
        "wifi5": "True",
        "wifi4": "True",
        "wmm": True,
        "wds": False,
        "wps": False,
    },
    "start_time": "2026-08-22T14:05:00.000Z",
    "stop_time": None,
    "modified": "2026-08-22T14:05:00.000Z",
}
Status = Literal["unknown", "ok", "problem", "critical"]


class ErrorOut(BaseModel):
    """DRF's error body."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "Incorrect time format"}]})
    detail: str


# ---------------------------------------------------------------------------------------------------------
# NetJSON DeviceMonitoring (openwisp_monitoring/device/schema.py): open objects (extra fields allowed)
# except where the schema closes them (disk entries, neighbours, DHCP leases).


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Count = WholeInt
#: A number kept as sent (an integer stays an integer in the stored report).
Number = int | float


class General(_Open):
    hostname: StrictStr = Field(default="", description="sent by the agent")
    local_time: Count = Field(default=0, description="epoch seconds")
    uptime: Count = Field(default=0, ge=0, description="seconds since boot")


class Memory(_Open):
    total: Count = Field(ge=0, description="bytes")
    free: Count = Field(ge=0)
    buffered: Count = Field(ge=0)
    shared: Count = Field(ge=0)
    cached: Count = Field(default=0, ge=0)
    available: Count = Field(default=0, ge=0, description="missing on old OpenWrt")


class Swap(_Open):
    total: Count = Field(default=0, ge=0)
    free: Count = Field(default=0, ge=0)


class Disk(_Closed):
    filesystem: StrictStr
    mount_point: StrictStr
    used_bytes: Count = Field(ge=0)
    available_bytes: Count = Field(ge=0)
    size_bytes: Count = Field(ge=0)
    used_percent: Count = Field(ge=0, le=100)


class Resources(_Open):
    load: list[Annotated[float, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=list, max_length=3, description="[load1, load5, load15]"
    )
    cpus: Count = Field(default=1, ge=1, description="processors")
    memory: Memory = Field(default=None)  # type: ignore[assignment]
    swap: Swap = Field(default=None)  # type: ignore[assignment]
    disk: list[Disk] = Field(default_factory=list)


class Client(_Open):
    mac: StrictStr = Field(min_length=1, max_length=64)
    auth: StrictBool
    authorized: StrictBool
    ht: StrictBool
    vht: StrictBool
    wmm: StrictBool
    mfp: StrictBool
    he: StrictBool = False
    wds: StrictBool = False
    wps: StrictBool = False
    vendor: StrictStr = ""


class Wireless(_Open):
    channel: Count
    country: StrictStr
    frequency: Count = Field(description="MHz")
    mode: StrictStr = Field(description="access_point, station, 802.11s, adhoc ...")
    noise: Count = Field(description="dBm")
    ssid: StrictStr
    tx_power: Count = Field(description="dBm")
    clients: list[Client] = Field(default_factory=list)


InterfaceName = name_type(MAX_INTERFACE_NAME)


class Interface(_Open):
    name: InterfaceName = Field(  # type: ignore[valid-type]
        description="unique among the report's interfaces (it names the series)"
    )
    type: StrictStr = Field(default="", description="wireless, ethernet, virtual, bridge, other ...")
    statistics: dict[str, Count] = Field(
        default_factory=dict, description="kernel counters: rx_bytes, tx_bytes, rx_packets, tx_packets ..."
    )
    wireless: Wireless = Field(default=None)  # type: ignore[assignment]


class Neighbor(_Closed):
    ip: StrictStr
    interface: StrictStr
    mac: StrictStr = ""
    state: StrictStr = ""
    vendor: StrictStr = ""


class Lease(_Closed):
    expiry: Number = Field(description="epoch seconds")
    ip: StrictStr
    mac: StrictStr
    client_name: StrictStr
    client_id: StrictStr
    vendor: StrictStr = ""


REPORT_EXAMPLE: dict[str, Any] = {
    "type": "DeviceMonitoring",
    "general": {"hostname": "ap-lobby", "local_time": 1787407500, "uptime": 93784},
    "resources": {
        "load": [0.42, 0.3, 0.21],
        "cpus": 2,
        "memory": {"total": 268435456, "free": 100663296, "shared": 1048576, "buffered": 4194304},
        "disk": [
            {
                "filesystem": "/dev/root",
                "mount_point": "/",
                "size_bytes": 8388608,
                "used_bytes": 6291456,
                "available_bytes": 2097152,
                "used_percent": 75,
            }
        ],
    },
    "interfaces": [
        {"name": "eth0", "type": "ethernet", "statistics": {"rx_bytes": 987654321, "tx_bytes": 123456789}}
    ],
}


class Report(_Open):
    """A NetJSON DeviceMonitoring report, as the agent posts it (only ``type`` is required)."""

    model_config = ConfigDict(extra="allow", strict=True, json_schema_extra={"examples": [REPORT_EXAMPLE]})
    type: Literal["DeviceMonitoring"]
    general: General = Field(default=None)  # type: ignore[assignment]
    resources: Resources = Field(default=None)  # type: ignore[assignment]
    interfaces: list[Interface] = Field(
        default_factory=list,
        description="each interface's name at most once (its series are named by it)",
    )
    neighbors: list[Neighbor] = Field(default_factory=list)
    dhcp_leases: list[Lease] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Answers


class MonitoringOut(BaseModel):
    status: Status = Field(description="the health: unknown, ok, problem, critical")
    status_label: str


class RelatedMetric(BaseModel):
    name: str = Field(description="memory, cpu or disk")
    is_healthy: bool


class MonitoringDetailOut(MonitoringOut):
    related_metrics: list[RelatedMetric]


class DeviceOut(BaseModel):
    """A device (a registered source of kind ``device``); fields upstat does not keep are null unless set in
    the source's ``extra`` (``mac_address``, ``management_ip``, ``os``, ``system``, ``notes``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [DEVICE_EXAMPLE]})
    id: str
    name: str
    organization: str | None = Field(description="the organization's id")
    organization_slug: str | None
    group: str | None
    mac_address: str | None
    management_ip: str | None
    model: str | None
    os: str | None
    system: str | None
    notes: str | None
    monitoring: MonitoringOut
    created: str
    modified: str


class ChartOut(BaseModel):
    key: str = Field(description="uptime, memory, cpu, disk, traffic, wifi_clients")
    title: str
    type: str = Field(description="scatter, bar or stackedbar")
    unit: str
    interface: str | None = Field(description="the interface of a traffic or Wi-Fi clients chart")
    summary: dict[str, float | None] = Field(
        description="per trace: the average (%), the total (bytes) or the most (clients) over the range"
    )
    traces: list[tuple[str, list[float | None]]] = Field(description="[name, one value per time of x]")


class DeviceDetailOut(DeviceOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **DEVICE_EXAMPLE,
                    "monitoring": {
                        "status": "ok",
                        "status_label": "ok",
                        "related_metrics": [{"name": "memory", "is_healthy": True}],
                    },
                    "x": X_EXAMPLE,
                    "resolution": "1h",
                    "charts": [MEMORY_EXAMPLE, TRAFFIC_EXAMPLE],
                    "data": None,
                }
            ]
        }
    )
    monitoring: MonitoringDetailOut  # type: ignore[assignment]
    x: list[str] = Field(description="the start of each bucket (ISO 8601, UTC)")
    resolution: str
    charts: list[ChartOut]
    data: dict[str, Any] | None = Field(
        default=None, description="the latest report as received (NetJSON), with status=true only"
    )


class Page(BaseModel):
    count: int
    next: str | None
    previous: str | None


class DevicePage(Page):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"count": 1, "next": None, "previous": None, "results": [DEVICE_EXAMPLE]}]
        }
    )
    results: list[DeviceOut]


class DashboardOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "devices": 2,
                    "by_status": {"unknown": 0, "ok": 1, "problem": 1, "critical": 0},
                    "x": X_EXAMPLE,
                    "resolution": "1h",
                    "charts": [{**TRAFFIC_EXAMPLE, "title": "General Traffic", "interface": None}],
                }
            ]
        }
    )
    devices: int = Field(description="how many devices were selected")
    by_status: dict[str, int] = Field(description="devices per health status")
    x: list[str]
    resolution: str
    charts: list[ChartOut]


class NearbyOut(BaseModel):
    id: str
    name: str
    organization: str | None
    group: str | None
    mac_address: str | None
    management_ip: str | None
    model: str | None
    os: str | None
    system: str | None
    notes: str | None
    distance: float = Field(description="metres")
    monitoring_status: Status
    monitoring_data: dict[str, Any] | None = Field(description="the device's latest report (NetJSON)")


class NearbyPage(Page):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            **{
                                k: v
                                for k, v in DEVICE_EXAMPLE.items()
                                if k not in ("organization_slug", "monitoring", "created", "modified")
                            },
                            "id": "london-ap",
                            "name": "london-ap",
                            "distance": 343653.2,
                            "monitoring_status": "unknown",
                            "monitoring_data": None,
                        }
                    ],
                }
            ]
        }
    )
    results: list[NearbyOut]


class WifiClientOut(BaseModel):
    mac_address: str
    vendor: str | None
    wifi6: str = Field(description="'True' or 'False' (as DRF writes a boolean in a CharField)")
    wifi5: str
    wifi4: str
    wmm: bool
    wds: bool
    wps: bool


class WifiSessionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SESSION_EXAMPLE]})
    id: str
    organization: str | None = Field(description="the device's organization id")
    device: str = Field(description="the device's name")
    device_id: str
    ssid: str
    interface_name: str
    client: WifiClientOut
    start_time: str
    stop_time: str | None = Field(description="null while the session is open")
    modified: str


class WifiSessionPage(Page):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"count": 1, "next": None, "previous": None, "results": [SESSION_EXAMPLE]}]
        }
    )
    results: list[WifiSessionOut]
