"""Sizes of the deployment artifacts `make package` left in .serverless/, against Lambda's limits.

Figures: each function's and layer's zip (``artifact_<name>_zip_kb``) and unzipped size
(``artifact_<name>_unzipped_kb``), and per function the unzipped total with its layers
(``deploy_<function>_unzipped_mb``), which Lambda caps at 250 MB. Zips uploaded directly are capped at
50 MB; the framework uploads through S3, where only the unzipped cap applies, but staying under 50 MB
keeps direct upload (and fast cold starts) possible.

``python -m bench.artifacts --check`` (infra/package.sh) also exits non-zero past a limit.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".serverless"
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024


def unzipped_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def function_layers(build: Path) -> dict[str, list[str]]:
    """Function artifact -> the layer artifacts it uses, read from the generated template."""
    template = json.loads((build / "cloudformation-template-update-stack.json").read_text())
    resources = template["Resources"]

    def artifact(resource: dict) -> str:
        props = resource["Properties"]
        key = (props.get("Code") or props.get("Content") or {}).get("S3Key", "")
        return str(key).rsplit("/", 1)[-1].removesuffix(".zip")

    out: dict[str, list[str]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            refs = [ref["Ref"] for ref in resource["Properties"].get("Layers", []) if "Ref" in ref]
            out[artifact(resource)] = [artifact(resources[ref]) for ref in refs]
    return out


def report(build: Path = BUILD) -> tuple[list[str], list[str]]:
    """The figure lines and the limit violations."""
    zips = {path.stem: path for path in sorted(build.glob("*.zip"))}
    lines, problems = [], []
    unzipped = {name: unzipped_bytes(path) for name, path in zips.items()}
    for name, path in zips.items():
        size = path.stat().st_size
        lines.append(f"artifact_{name}_zip_kb: {size / 1024:.1f} kB")
        lines.append(f"artifact_{name}_unzipped_kb: {unzipped[name] / 1024:.1f} kB")
        if size > ZIPPED_LIMIT:
            problems.append(f"{name}.zip is {size / 1048576:.1f} MB, over the 50 MB direct-upload limit")
    for function, layers in function_layers(build).items():
        total = unzipped.get(function, 0) + sum(unzipped.get(layer, 0) for layer in layers)
        lines.append(f"deploy_{function}_unzipped_mb: {total / 1048576:.2f} MB")
        if total > UNZIPPED_LIMIT:
            problems.append(f"{function} + layers unzip to {total / 1048576:.1f} MB, over Lambda's 250 MB")
    return lines, problems


def main() -> None:
    if not (BUILD / "cloudformation-template-update-stack.json").exists():
        print("# bench.artifacts: no .serverless/ (run `make package` first)")
        return
    lines, problems = report()
    print("\n".join(lines + [f"# {p}" for p in problems]), flush=True)


if __name__ == "__main__":
    main()
    if "--check" in sys.argv[1:]:
        sys.exit(1 if report()[1] else 0)
