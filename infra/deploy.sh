#!/usr/bin/env bash
# Deploy one stage with the pinned osls (CI: .github/workflows/deploy.yml, with OIDC credentials set).
#
#   STAGE=dev|prod  REGION=...  ARCH=arm64|x86_64
#   UPSTAT_NETWORK=none|vpc UPSTAT_SUBNET_IDS=a,b UPSTAT_SECURITY_GROUP_IDS=sg UPSTAT_CACHE=external|elasticache
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STAGE:?STAGE is required}" "${REGION:?REGION is required}"
ARCH="${ARCH:-arm64}"

make install PYTHON="${PYTHON:-python3}"
(cd infra && npm ci --no-audit --no-fund --loglevel=error)
ARCH="$ARCH" bash infra/build-layers.sh

params=(--param="arch=$ARCH")
[[ -n "${UPSTAT_NETWORK:-}" ]] && params+=(--param="network=$UPSTAT_NETWORK")
[[ -n "${UPSTAT_SUBNET_IDS:-}" ]] && params+=(--param="subnetIds=$UPSTAT_SUBNET_IDS")
[[ -n "${UPSTAT_SECURITY_GROUP_IDS:-}" ]] && params+=(--param="securityGroupIds=$UPSTAT_SECURITY_GROUP_IDS")
[[ -n "${UPSTAT_CACHE:-}" ]] && params+=(--param="cache=$UPSTAT_CACHE")

SLS_TELEMETRY_DISABLED=1 infra/node_modules/.bin/osls deploy --stage "$STAGE" --region "$REGION" "${params[@]}" --verbose
