"""Import time of each Lambda function's handler module: the part of a cold start the code controls.

Each figure is the median over RUNS fresh interpreters of a timer around ``import functions.<name>.handler``
(interpreter start-up excluded; a discarded first round writes the .pyc files, which the deployed layers
ship too: infra/build-layers.sh). ``import_floor_fastapi_mangum_pydantic_ms`` times
``import fastapi, mangum, pydantic`` the same way: no FastAPI function can import faster, so
``ratio_import_api_to_floor`` says how much upstat adds; ``import_floor_minimal_app_ms`` is the same floor
with one route built and wrapped. The API includes a router when a request first needs it (upstat.api.app):
``api_build_app_ms`` is importing every router and registering every route (libraries loaded), what the
docs or a path no router claims cost on first use; ``api_first_status_router_ms`` is what a cold start's
first ``GET /api/status`` adds (the OpenUptimes router).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
FUNCTIONS = ("api", "ping", "rollup", "retention", "ping_worker")
FLOOR = "import fastapi, mangum, pydantic"
# What each scheduled job imports lazily on its first invocation: the handler module's import alone would
# understate its cold start, so ``cold_<name>_ms`` adds these.
JOB_MODULES = {
    "ping": "upstat.uptime.ticks",
    "ping_worker": "upstat.uptime.ticks",
    "rollup": "upstat.timeseries.rollup, upstat.timeseries.retention",
    "retention": "upstat.timeseries.rollup, upstat.timeseries.retention, upstat.uptime.ticks",
}
# The smallest real API function: one route, built and wrapped (building routes pulls in pydantic.v1
# through FastAPI's compatibility layer, and validation models, which the bare imports do not).
MINIMAL_APP = (
    "import fastapi, mangum\n"
    "app = fastapi.FastAPI()\n"
    "app.get('/')(lambda: {})\n"
    "handler = mangum.Mangum(app, lifespan='off')"
)
# Building upstat's app with every route (what the docs, or a path no router claims, include on first use),
# and the router GET /api/status includes on a cold start (routers are included when first needed:
# upstat.api.app), libraries already loaded.
BUILD_APP = "from upstat.api.app import create_app\nimport fastapi, mangum, redis, upstat.api.deps"
STATUS_ROUTER = f"{BUILD_APP}\napp = create_app()"

_TIMER = "import time\n{setup}\nt = time.perf_counter()\n{code}\nprint((time.perf_counter() - t) * 1000)\n"


def _once(target: str | tuple[str, str], env: dict[str, str]) -> float:
    setup, code = target if isinstance(target, tuple) else ("", target)
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(setup=setup, code=code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def import_ms(targets: dict[str, str | tuple[str, str]], runs: int = RUNS) -> dict[str, float]:
    """Median milliseconds to run each target: code, or (untimed setup, timed code).

    Rounds go through every target in turn, so a slow spell of a shared machine hits all of them alike.
    """
    # The layers ship bytecode (infra/build-layers.sh): PYTHONDONTWRITEBYTECODE would time compiling instead.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("UPSTAT_") and k not in ("REDIS_URL", "PYTHONDONTWRITEBYTECODE")
    }
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for i in range(runs + 1):
        for name, target in targets.items():
            ms = _once(target, env)
            if i:  # round 0 writes the bytecode caches
                samples[name].append(ms)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    targets: dict[str, str | tuple[str, str]] = {
        name: f"import functions.{name}.handler" for name in FUNCTIONS
    }
    for name, modules in JOB_MODULES.items():
        targets[f"cold_{name}"] = f"import functions.{name}.handler, {modules}"
    targets.update(
        floor=FLOOR,
        minimal=MINIMAL_APP,
        build=(BUILD_APP, "create_app(eager=True)"),
        status=(STATUS_ROUTER, "app.state.routers.include_for('/api/status')"),
    )
    figures = import_ms(targets)
    floor, minimal, build = figures.pop("floor"), figures.pop("minimal"), figures.pop("build")
    status = figures.pop("status")
    for name, ms in figures.items():
        if name.startswith("cold_"):
            print(f"{name}_ms: {ms:.1f} ms", flush=True)
            print(f"ratio_{name}_to_floor: {ms / floor:.2f} x", flush=True)
        else:
            print(f"import_{name}_ms: {ms:.1f} ms", flush=True)
    print(f"import_floor_fastapi_mangum_pydantic_ms: {floor:.1f} ms")
    print(f"import_floor_minimal_app_ms: {minimal:.1f} ms")
    print(f"api_build_app_ms: {build:.1f} ms")
    print(f"api_first_status_router_ms: {status:.1f} ms")
    print(f"import_api_over_floor_ms: {figures['api'] - floor:.1f} ms")
    print(f"ratio_import_api_to_floor: {figures['api'] / floor:.2f} x", flush=True)


run = main  # the name the benchmark brief uses; bench/__main__.py calls main()


if __name__ == "__main__":
    main()
