#!/usr/bin/env bash
# Build the dependency layer (layers/deps/python) from uv.lock for the Lambda platform, then check sizes.
#
#   ARCH=arm64|x86_64   (default arm64; must match serverless.yml's `arch` param)
#
# Only the project's runtime dependencies go in (`uv export --no-dev`, no extras): boto3 is left out
# because the Lambda Python runtime ships it, and upstat imports it lazily. Wheels only
# (--only-binary :all:), for CPython 3.13 on manylinux <= 2.34 (Amazon Linux 2023, the python3.13
# runtime's glibc), so a machine of any OS or architecture builds the same layer. The output is
# git-ignored (.gitignore: layers/deps/python/).
#
# Both layers ship bytecode compiled by a CPython 3.13 (PY313=/path/to/python3.13, else found on the
# machine) with --invalidation-mode unchecked-hash: a Lambda layer is read-only and its zip entries carry
# no usable mtimes, so without these .pyc files every cold start would compile every module it imports.
# The code layer is staged for that in build/layers/upstat (serverless.yml packages it from there).
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH="${ARCH:-arm64}"
PY_VERSION="3.13"
GLIBC="2_34"
UV="${UV:-.tools/bin/uv}"
OUT="layers/deps/python"
CODE_OUT="build/layers/upstat/python"
LIMIT_UNZIPPED=$((250 * 1024 * 1024)) # Lambda: function + all layers, unzipped

case "$ARCH" in
  arm64) PLATFORM="aarch64-manylinux_${GLIBC}" ;;
  x86_64) PLATFORM="x86_64-manylinux_${GLIBC}" ;;
  *) echo "ARCH must be arm64 or x86_64, not $ARCH" >&2; exit 2 ;;
esac

requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
"$UV" export --frozen --no-dev --no-hashes --no-emit-project --no-header --quiet --output-file "$requirements"

rm -rf "$OUT"
mkdir -p "$OUT"
# --no-deps: the export is the whole, pinned closure already (markers evaluated for Python 3.13).
"$UV" pip install --quiet --no-deps --no-compile --only-binary :all: \
  --python-platform "$PLATFORM" --python-version "$PY_VERSION" \
  --target "$OUT" -r "$requirements"

# Nothing the runtime needs: console scripts, caches, test suites shipped inside packages.
rm -rf "$OUT/bin" "$OUT/.lock"
find "$OUT" -depth -type d \( -name __pycache__ -o -name tests -o -name test \) -exec rm -rf {} +
find "$OUT" -name '*.pyc' -delete  # any left by a wheel; recompiled below for 3.13
echo "$ARCH" >layers/deps/.arch

rm -rf "$CODE_OUT"
mkdir -p "$CODE_OUT"
cp -R layers/upstat/python/upstat "$CODE_OUT/"
find "$CODE_OUT" -depth -type d -name __pycache__ -exec rm -rf {} +

find_py313() {
  local cand
  for cand in "${PY313:-}" python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13; do
    [[ -n "$cand" ]] || continue
    if "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      command -v "$cand" || echo "$cand"
      return 0
    fi
  done
  return 1
}
if py313="$(find_py313)"; then
  "$py313" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$OUT" "$CODE_OUT" >/dev/null
  echo "bytecode: compiled by $("$py313" -V) (unchecked-hash)"
elif [[ "${REQUIRE_BYTECODE:-0}" == 1 ]]; then
  echo "no CPython 3.13 found to compile the layers' bytecode (set PY313)" >&2
  exit 1
else
  echo "warning: no CPython 3.13 found (set PY313): layers ship sources only, cold starts compile them" >&2
fi

size_of() { du -sb "$@" | awk '{s += $1} END {print s}'; }
deps=$(size_of "$OUT")
code=$(size_of "$CODE_OUT")
functions=$(size_of --exclude=__pycache__ functions)
total=$((deps + code + functions))
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1048576}'; }
echo "layer deps ($ARCH, python$PY_VERSION): $(mb "$deps") unzipped"
echo "layer upstat: $(mb "$code") unzipped"
echo "functions (all of functions/): $(mb "$functions") unzipped"
echo "unzipped total: $(mb "$total") of Lambda's 250 MB"
if ((total > LIMIT_UNZIPPED)); then
  echo "too big: function + layers exceed Lambda's 250 MB unzipped limit" >&2
  exit 1
fi
