"""Run every benchmark module in turn (``make bench``); each prints ``name: value unit`` lines."""

from __future__ import annotations

import importlib
import sys

MODULES = (
    "bench.engine",
    "bench.prober",
    "bench.ping",
    "bench.notify",
    "bench.status",
    "bench.openvpn",
    "bench.duplistatus",
    "bench.netflow",
    "bench.openwisp",
    "bench.rules",
    "bench.imports",
    "bench.artifacts",
)


def main(argv: list[str]) -> int:
    wanted = argv or list(MODULES)
    failed = 0
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                print(f"# {name}: not present", flush=True)
                continue
            raise
        print(f"# {name}", flush=True)
        try:
            entry = getattr(module, "main", None) or module.run  # each module defines main() or run()
            entry()
        except Exception as exc:  # one benchmark failing must not hide the others' figures
            failed += 1
            print(f"# {name} failed: {exc!r}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
