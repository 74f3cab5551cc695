"""Import time of each Lambda function's handler module: the part of a cold start the code controls.

Each figure is the median over RUNS fresh interpreters of a timer around ``import functions.<name>.handler``
(interpreter start-up excluded; a discarded first round writes the .pyc files, which the deployed layers
ship too: infra/build-layers.sh). ``import_floor_fastapi_mangum_pydantic_ms`` times
``import fastapi, mangum, pydantic`` the same way: no FastAPI function can import faster, so
``ratio_import_api_to_floor`` says how much upstat adds. ``import_api_over_floor_ms`` bounds what splitting
the API into several functions could save: each part would still pay the floor (and redis, settings,
errors), so at most this difference.
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
FLOOR = "fastapi, mangum, pydantic"

_TIMER = "import time\nt = time.perf_counter()\nimport {target}\nprint((time.perf_counter() - t) * 1000)\n"


def _once(target: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(target=target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def import_ms(targets: dict[str, str], runs: int = RUNS) -> dict[str, float]:
    """Median milliseconds to import each target (a module, or modules separated by commas).

    Rounds go through every target in turn, so a slow spell of a shared machine hits all of them alike.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_") and k != "REDIS_URL"}
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for i in range(runs + 1):
        for name, target in targets.items():
            ms = _once(target, env)
            if i:  # round 0 writes the bytecode caches
                samples[name].append(ms)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    targets = {name: f"functions.{name}.handler" for name in FUNCTIONS}
    targets["floor"] = FLOOR
    figures = import_ms(targets)
    floor = figures.pop("floor")
    for name, ms in figures.items():
        print(f"import_{name}_ms: {ms:.1f} ms", flush=True)
    print(f"import_floor_fastapi_mangum_pydantic_ms: {floor:.1f} ms")
    print(f"import_api_over_floor_ms: {figures['api'] - floor:.1f} ms")
    print(f"ratio_import_api_to_floor: {figures['api'] / floor:.2f} x", flush=True)


run = main  # the name the benchmark brief uses; bench/__main__.py calls main()


if __name__ == "__main__":
    main()
