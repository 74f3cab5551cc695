"""NetJSON DeviceMonitoring reports (what OpenWISP's monitoring agent posts): checked against the rules of
OpenWISP's schema, then turned into the device's metrics. Pure: no Redis, no HTTP.

Metrics, as OpenWISP's server derives them (README "OpenWISP Monitoring"):

- ``memory.percent_used`` = 100 * (1 - (free + buffered) / total), or with ``available`` instead of ``free``
  when it is given and larger; ``cpu.cpu_usage`` = 100 * load[0] / cpus, ``cpu.load_1/5/15``;
  ``disk.used_disk`` = 100 * sum(used_bytes) / sum(size_bytes) (100 when the size is 0);
- ``traffic.<interface>.rx_bytes``, ``tx_bytes``, ``rx_packets``, ``tx_packets``: the kernel's counters,
  stored as **counters** (a reboot restarts them: an increase across it is the new value, never negative);
- ``wifi_clients.<interface>``: distinct client MACs on that interface; ``wifi_clients``: on the device;
- ``general.uptime`` (seconds) and ``reachable`` (1 per report: the uptime chart counts reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upstat.errors import InvalidInput
from upstat.names import name_problem

TYPE = "DeviceMonitoring"
#: Interface names become part of metric names (``traffic.<name>.rx_bytes``): bounded well under the name
#: rule's 200 characters (Linux allows 15).
MAX_INTERFACE_NAME = 100
COUNTERS = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")
MEMORY_REQUIRED = ("total", "free", "buffered", "shared")
DISK_FIELDS = ("filesystem", "mount_point", "used_bytes", "available_bytes", "size_bytes", "used_percent")
WIRELESS_REQUIRED = ("channel", "country", "frequency", "mode", "noise", "ssid", "tx_power")
CLIENT_REQUIRED = ("mac", "auth", "authorized", "ht", "vht", "wmm", "mfp")
NEIGHBOR_FIELDS = ("ip", "mac", "interface", "state", "vendor")
LEASE_FIELDS = ("expiry", "ip", "mac", "client_name", "client_id", "vendor")
LEASE_REQUIRED = ("expiry", "ip", "mac", "client_name", "client_id")


@dataclass(frozen=True)
class WifiClient:
    """A station associated with one of the device's access points in one report."""

    mac: str
    interface: str
    ssid: str
    vendor: str | None = None
    ht: bool = False
    vht: bool = False
    he: bool = False
    wmm: bool = False
    wds: bool = False
    wps: bool = False


@dataclass
class Sample:
    """What one report measured: gauges and counters by metric name, and the Wi-Fi clients seen."""

    gauges: dict[str, float] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    clients: list[WifiClient] = field(default_factory=list)


def invalid(path: str, says: str) -> InvalidInput:
    """OpenWISP's words for a report its schema refuses (the path in JSON pointer form)."""
    return InvalidInput(f'Invalid data in "#{path}", validator says: {says}', field="body" + path)


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(path, f"{_shown(value)} is not of type 'object'")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(path, f"{_shown(value)} is not of type 'array'")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(path, f"{_shown(value)} is not of type 'integer'")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(path, f"{_shown(value)} is not of type 'number'")
    return float(value)


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise invalid(path, f"{_shown(value)} is not of type 'string'")
    return value


def _required(obj: Mapping[str, Any], names: tuple[str, ...], path: str) -> None:
    for name in names:
        if name not in obj:
            raise invalid(path, f"'{name}' is a required property")


def _closed(obj: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise invalid(path, f"Additional properties are not allowed ('{extra[0]}' was unexpected)")


def parse(report: Any) -> Sample:
    """The report checked (InvalidInput naming the first problem, as OpenWISP's validator words it) and its
    metrics. Only ``type`` is required; every other part is checked when present."""
    doc = _object(report, "")
    if doc.get("type") != TYPE:
        if "type" not in doc:
            raise invalid("", "'type' is a required property")
        raise invalid("/type", f"{_shown(doc.get('type'))} is not one of ['{TYPE}']")
    sample = Sample()
    sample.gauges["reachable"] = 1.0
    if "general" in doc:
        _general(_object(doc["general"], "/general"), sample)
    if "resources" in doc:
        _resources(_object(doc["resources"], "/resources"), sample)
    if "interfaces" in doc:
        _interfaces(_array(doc["interfaces"], "/interfaces"), sample)
    for name, allowed, required in (
        ("neighbors", NEIGHBOR_FIELDS, ("ip", "interface")),
        ("dhcp_leases", LEASE_FIELDS, LEASE_REQUIRED),
    ):
        if name in doc:
            for i, item in enumerate(_array(doc[name], f"/{name}")):
                path = f"/{name}/{i}"
                _closed(_object(item, path), allowed, path)
                _required(item, required, path)
    return sample


def _general(general: Mapping[str, Any], sample: Sample) -> None:
    if "local_time" in general:
        _int(general["local_time"], "/general/local_time")
    if "uptime" in general:
        sample.gauges["general.uptime"] = float(_int(general["uptime"], "/general/uptime"))


def _resources(res: Mapping[str, Any], sample: Sample) -> None:
    load = [
        _number(v, f"/resources/load/{i}")
        for i, v in enumerate(_array(res.get("load", []), "/resources/load"))
    ]
    cpus = _int(res["cpus"], "/resources/cpus") if "cpus" in res else None
    if cpus is not None and cpus < 1:
        raise invalid("/resources/cpus", f"{cpus} is less than the minimum of 1")
    if load and cpus:
        sample.gauges["cpu.cpu_usage"] = 100.0 * load[0] / cpus
        for name, value in zip(("cpu.load_1", "cpu.load_5", "cpu.load_15"), load, strict=False):
            sample.gauges[name] = value
    if "memory" in res:
        _memory(_object(res["memory"], "/resources/memory"), sample)
    if "disk" in res:
        used = size = 0
        for i, disk in enumerate(_array(res["disk"], "/resources/disk")):
            path = f"/resources/disk/{i}"
            _closed(_object(disk, path), DISK_FIELDS, path)
            _required(disk, DISK_FIELDS, path)
            used += _int(disk["used_bytes"], f"{path}/used_bytes")
            size += _int(disk["size_bytes"], f"{path}/size_bytes")
        if res["disk"]:
            sample.gauges["disk.used_disk"] = 100.0 if size == 0 else 100.0 * used / size


def _memory(mem: Mapping[str, Any], sample: Sample) -> None:
    _required(mem, MEMORY_REQUIRED, "/resources/memory")
    values = {
        k: _int(v, f"/resources/memory/{k}")
        for k, v in mem.items()
        if k in (*MEMORY_REQUIRED, "cached", "available")
    }
    total = values["total"]
    free = values["free"]
    available = values.get("available")
    if available is not None and available > free:
        free = available
    if total > 0:
        sample.gauges["memory.percent_used"] = 100.0 * (1 - (free + values["buffered"]) / total)
    for k, v in values.items():
        sample.gauges[f"memory.{k}"] = float(v)


def _interfaces(interfaces: list[Any], sample: Sample) -> None:
    seen: set[str] = set()
    macs: set[str] = set()
    for i, item in enumerate(interfaces):
        path = f"/interfaces/{i}"
        iface = _object(item, path)
        _required(iface, ("name",), path)
        name = _string(iface["name"], f"{path}/name")
        problem = name_problem(name, max_len=MAX_INTERFACE_NAME)
        if problem is not None:
            raise invalid(f"{path}/name", problem)
        if name in seen:
            raise invalid("/interfaces", f"has non-unique elements (two interfaces named {name!r})")
        seen.add(name)
        if "statistics" in iface:
            stats = _object(iface["statistics"], f"{path}/statistics")
            for key, value in stats.items():
                number = _int(value, f"{path}/statistics/{key}")
                if key in COUNTERS:
                    sample.counters[f"traffic.{name}.{key}"] = float(number)
        if "wireless" in iface:
            macs |= _wireless(
                _object(iface["wireless"], f"{path}/wireless"), name, f"{path}/wireless", sample
            )
            sample.gauges["wifi_clients"] = float(len(macs))  # distinct stations across the device


def _wireless(wireless: Mapping[str, Any], interface: str, path: str, sample: Sample) -> set[str]:
    _required(wireless, WIRELESS_REQUIRED, path)
    ssid = _string(wireless["ssid"], f"{path}/ssid")
    for key in ("channel", "frequency", "noise", "tx_power"):
        _int(wireless[key], f"{path}/{key}")
    macs: set[str] = set()
    for j, item in enumerate(_array(wireless.get("clients", []), f"{path}/clients")):
        cpath = f"{path}/clients/{j}"
        client = _object(item, cpath)
        _required(client, CLIENT_REQUIRED, cpath)
        mac = _string(client["mac"], f"{cpath}/mac").lower()
        vendor = client.get("vendor")
        flags = {k: bool(client.get(k, False)) for k in ("ht", "vht", "he", "wmm", "wds", "wps")}
        if mac not in macs:
            sample.clients.append(
                WifiClient(mac, interface, ssid, vendor if isinstance(vendor, str) else None, **flags)
            )
        macs.add(mac)
    sample.gauges[f"wifi_clients.{interface}"] = float(len(macs))
    return macs


def interface_of(metric: str) -> tuple[str, str] | None:
    """(interface, counter) of a ``traffic.<interface>.<counter>`` metric (interface names may hold dots)."""
    if not metric.startswith("traffic."):
        return None
    name, _, counter = metric[len("traffic.") :].rpartition(".")
    return (name, counter) if name and counter in COUNTERS else None
