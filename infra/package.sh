#!/usr/bin/env bash
# `make package`: the deployment artifacts and CloudFormation template, offline, then lint and sizes.
#
#   STAGE=ci  ARCH=arm64|x86_64  REGION=eu-west-1
#
# 1. osls (the open-source Serverless Framework v3 fork), pinned in infra/package-lock.json, via npm ci.
# 2. The dependency layer from uv.lock (infra/build-layers.sh).
# 3. `osls package`: with layers declared it asks CloudFormation whether the stack and layers exist, so a
#    throwaway moto_server on a free loopback port answers, with dummy credentials. Nothing leaves the
#    machine, and serverless.yml resolves no ${ssm:...} (the functions read SSM at run time).
# 4. cfn-lint on the generated template, for the regions in LINT_REGIONS (infra/.cfnlintrc.yaml lists each
#    ignored rule with its reason, and the informational checks reviewed).
# 5. Each artifact's zipped and unzipped size against Lambda's limits (python -m bench.artifacts --check).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STAGE="${STAGE:-ci}"
ARCH="${ARCH:-arm64}"
REGION="${REGION:-eu-west-1}"
# Resource types and properties differ by region (ElastiCache Serverless, Scheduler): lint where teams deploy.
LINT_REGIONS="${LINT_REGIONS:-$REGION us-east-1 us-west-2 eu-central-1 ap-southeast-1 ap-northeast-1 sa-east-1}"
PY="$ROOT/.venv/bin/python"

if [[ ! -x infra/node_modules/.bin/osls ]] || [[ infra/package-lock.json -nt infra/node_modules/.package-lock.json ]]; then
  (cd infra && npm ci --no-audit --no-fund --loglevel=error)
fi

ARCH="$ARCH" bash infra/build-layers.sh

port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done

endpoint="http://127.0.0.1:$port"
rm -rf .serverless
env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION" \
  AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_CLOUDFORMATION="$endpoint" AWS_ENDPOINT_URL_STS="$endpoint" \
  AWS_ENDPOINT_URL_S3="$endpoint" AWS_ENDPOINT_URL_LAMBDA="$endpoint" \
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
  infra/node_modules/.bin/osls package --stage "$STAGE" --region "$REGION" --param="arch=$ARCH" "$@"

template=.serverless/cloudformation-template-update-stack.json
# shellcheck disable=SC2086  # one word per region
"$ROOT/.venv/bin/cfn-lint" --config-file infra/.cfnlintrc.yaml --regions $LINT_REGIONS -- "$template"
echo "cfn-lint: $template clean in $LINT_REGIONS"

"$PY" -m bench.artifacts --check
