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
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH="${ARCH:-arm64}"
PY_VERSION="3.13"
GLIBC="2_34"
UV="${UV:-.tools/bin/uv}"
OUT="layers/deps/python"
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
find "$OUT" -name '*.pyc' -delete
echo "$ARCH" >layers/deps/.arch

size_of() { du -sb "$@" | awk '{s += $1} END {print s}'; }
deps=$(size_of "$OUT")
code=$(size_of --exclude=__pycache__ layers/upstat/python)
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
