#!/usr/bin/env bash
# Deploy one stage with the pinned osls, then smoke-test it. CI (.github/workflows/deploy.yml) runs it with
# the package its own run built; by hand it packages first. README "Deployment" has the whole procedure.
#
#   STAGE=dev|prod  REGION=eu-west-1  [ARCH=arm64|x86_64]  bash infra/deploy.sh [--param="name=value" ...]
#
#   PACKAGE_DIR=dir          deploy this package as it is (`osls deploy --package`); unset: build it now with
#                            infra/package.sh (offline), then deploy that
#   UPSTAT_CFN_ROLE_ARN      the CloudFormation execution role (infra/bootstrap.yml's CloudFormationRoleArn);
#                            unset: CloudFormation acts with your own credentials
#   UPSTAT_SMOKE_TOKEN       a read key of the stage for the smoke test's authenticated read; unset by hand:
#                            that read is skipped with a warning (CI requires it: SMOKE_REQUIRE_TOKEN=1)
# Parameters live in serverless.yml (params.<stage>, reviewed like code). UPSTAT_NETWORK, UPSTAT_CACHE,
# UPSTAT_REDIS_CLUSTER... override them for a deploy by hand (infra/params.sh lists them); the package and
# the deploy get the same ones.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STAGE:?STAGE is required}" "${REGION:?REGION is required}"
ARCH="${ARCH:-arm64}"

mapfile -t params < <(ARCH="$ARCH" bash infra/params.sh)
params+=("$@")

if [[ -z "${PACKAGE_DIR:-}" ]]; then
  make install PYTHON="${PYTHON:-python3}"
  STAGE="$STAGE" REGION="$REGION" ARCH="$ARCH" bash infra/package.sh "${params[@]}"
  PACKAGE_DIR=.serverless
elif [[ ! -x infra/node_modules/.bin/osls ]]; then
  (cd infra && npm ci --no-audit --no-fund --loglevel=error)
fi

SLS_TELEMETRY_DISABLED=1 infra/node_modules/.bin/osls deploy --stage "$STAGE" --region "$REGION" \
  --package "$PACKAGE_DIR" "${params[@]}" --verbose

url="$(aws cloudformation describe-stacks --region "$REGION" --stack-name "upstat-$STAGE" \
  --query "Stacks[0].Outputs[?OutputKey=='HttpApiUrl'].OutputValue" --output text)"
smoke=(python3 infra/smoke.py "$url")
[[ "${SMOKE_REQUIRE_TOKEN:-0}" == 1 ]] || smoke+=(--allow-no-token)
"${smoke[@]}"
