"""The two-command promise: `make test` on a machine with only Python 3.11+ and make says what it skips.

`make package` needs Node.js with npm (osls); without them `make test` skips that step and prints why,
and `make package` alone fails with the reason instead of a shell's "command not found".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make") or "/usr/bin/make"


def _path_without_node(tmp_path: Path) -> str:
    """A PATH holding bash and nothing else: no node, no npm, no python3."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bash").symlink_to(shutil.which("bash") or "/bin/bash")
    return str(bin_dir)


def _make(
    tmp_path: Path, *args: str, cwd: Path = ROOT, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path or _path_without_node(tmp_path)}
    return subprocess.run(
        [MAKE, "-s", "-C", str(cwd), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_make_test_skips_packaging_without_node_and_says_why(tmp_path: Path) -> None:
    done = _make(tmp_path, "-o", ".venv/.synced", "package-or-skip")  # -o: never re-sync the venv here
    assert done.returncode == 0, done.stderr
    assert "make package skipped: Node.js is not installed" in done.stdout
    assert "Node.js >= 20.19 and npm" in done.stdout


def test_make_package_without_node_fails_with_the_reason(tmp_path: Path) -> None:
    done = _make(tmp_path, "-o", ".venv/.synced", "package")
    assert done.returncode != 0
    assert "make package: Node.js is not installed" in done.stderr


def test_an_old_python_is_refused_with_the_version_needed(tmp_path: Path) -> None:
    work = tmp_path / "clone"
    work.mkdir()
    shutil.copy(ROOT / "Makefile", work / "Makefile")
    for name in ("pyproject.toml", "uv.lock"):
        (work / name).write_text("")
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/bash\n[[ "$1" == -V ]] && { echo "Python 3.10.12"; exit 0; }\nexit 1\n')
    old.chmod(0o755)
    done = _make(tmp_path, "install", f"PYTHON={old}", cwd=work, path=os.environ["PATH"])
    assert done.returncode != 0
    assert "upstat needs Python 3.11 or newer" in done.stderr and "Python 3.10.12" in done.stderr
    assert not (work / ".tools").exists()


def test_make_test_says_the_browser_tests_skip_when_chromium_cannot_be_installed(tmp_path: Path) -> None:
    done = _make(tmp_path, "-o", ".venv/.synced", "chromium")  # no chromium, no id, no apt-get on PATH
    assert done.returncode == 0, done.stderr
    assert "chromium is not installed" in done.stdout and "the browser tests will skip" in done.stdout
