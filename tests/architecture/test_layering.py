"""The library's layering, checked on its source (README "Architecture"): HTTP only at the edge, and each
package importing only what sits beneath it."""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "layers" / "upstat" / "python" / "upstat"
HTTP = ("fastapi", "starlette", "mangum", "uvicorn")
#: Packages that may speak HTTP (routers, request and response models, status codes).
EDGE = ("api", "dialects")
#: What each domain package may import from the library (besides itself and the shared base modules).
BASE = {
    "upstat",
    "upstat.config",
    "upstat.errors",
    "upstat.clock",
    "upstat.names",
    "upstat.wire",
    "upstat.aws",
}
ALLOWED = {
    "store": set(),
    "timeseries": {"store"},
    "auth": {"store"},
    # Uptime's alert path delivers to notify's channels, and services name channels (checked to exist).
    "uptime": {"store", "timeseries", "notify"},
    # Notification channels send alerts of uptime's alert path, through its SSRF guard, masking as services.
    "notify": {"store", "uptime"},
    # Sources (the registry every dialect shares) may make source keys; auth never looks sources up.
    "sources": {"store", "timeseries", "auth"},
    # The VPN domain (status files, sessions, state); its sources go to the shared registry.
    "vpn": {"store", "timeseries", "sources"},
    # Rules (alert rules on any series) read the engine and the registry's kinds, and deliver their changes
    # through uptime's alert path; their transitions module is the one delivery path of recorded changes.
    "rules": {"store", "timeseries", "sources", "uptime", "notify"},
    # Backups (the backup domain) alert overdue jobs through the rules' transitions, register in sources and
    # apply its access rule to a key (auth's Principal).
    "backups": {"store", "timeseries", "uptime", "sources", "auth", "rules"},
    # Devices (OpenWISP's and any other device dialect's domain) register sources and alert through the
    # rules' transitions.
    "devices": {"store", "timeseries", "auth", "sources", "uptime", "rules"},
    "jobs": {
        "store",
        "timeseries",
        "uptime",
        "vpn",
        "backups",
        "devices",
        "sources",
        "auth",
        "rules",
        "notify",
    },
    "web": set(),
}


def modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(LIB.parent).with_suffix("").parts), p) for p in sorted(LIB.rglob("*.py"))]


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else ""


def test_http_lives_only_in_api_and_dialects() -> None:
    speaking = {
        name
        for name, path in modules()
        if package_of(name) not in EDGE
        and name not in ("upstat.local",)  # `make run` starts uvicorn: the local entry point, not the library
        and any(i.split(".")[0] in HTTP for i in imports(path))
    }
    assert speaking == set()


def test_domain_packages_import_only_what_sits_beneath_them() -> None:
    wrong = []
    for name, path in modules():
        package = package_of(name)
        if package not in ALLOWED:
            continue
        for imported in imports(path):
            if not imported.startswith("upstat.") or imported in BASE:
                continue
            target = imported.split(".")[1]
            if target != package and target not in ALLOWED[package]:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_a_dialect_imports_no_other_dialect_and_the_domain_imports_none() -> None:
    wrong = []
    for name, path in modules():
        package = package_of(name)
        for imported in imports(path):
            if not imported.startswith("upstat.dialects."):
                continue
            own = package == "dialects" and imported.split(".")[2] == name.split(".")[2]
            if not own and name != "upstat.api.app":
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


#: The time model and the pure series functions: they compute on values, beneath the engine.
PURE = ("chunks", "model", "timemath", "points", "render", "shapes", "multi")


def test_the_pure_series_modules_import_neither_the_engine_nor_the_store_nor_the_settings() -> None:
    leaks = {
        name: sorted(i for i in imports(path) if i in FORBIDDEN_IN_PURE or i.startswith("upstat.store"))
        for name, path in modules()
        if name.split(".")[-1] in PURE and package_of(name) == "timeseries"
    }
    assert {name: found for name, found in leaks.items() if found} == {}
    assert len(leaks) == len(PURE)


FORBIDDEN_IN_PURE = {"upstat.timeseries.engine", "upstat.config", "redis", "upstat.timeseries.across"}
