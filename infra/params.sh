#!/usr/bin/env bash
# The `--param` options for osls from the environment, one per line (infra/deploy.sh reads them, so the
# package and the deploy get the same ones; tests/infra/test_deploy_params.py checks the mapping).
# serverless.yml params.<stage> is the reviewed place for a stage's parameters; these override it by hand.
#
#   ARCH -> arch   UPSTAT_NETWORK -> network   UPSTAT_SUBNET_IDS -> subnetIds
#   UPSTAT_SECURITY_GROUP_IDS -> securityGroupIds   UPSTAT_VPC_ID -> vpcId   UPSTAT_VPC_ENDPOINTS -> vpcEndpoints
#   UPSTAT_CACHE -> cache   UPSTAT_REDIS_CLUSTER -> redisCluster   UPSTAT_ALARM_EMAIL -> alarmEmail
#   UPSTAT_LAYOUT -> layout
#   UPSTAT_CFN_ROLE_ARN -> cfnRoleArn
# An unset or empty variable adds nothing: the stage's value in serverless.yml stays.
set -euo pipefail
emit() { if [[ -n "${2:-}" ]]; then printf -- '--param=%s=%s\n' "$1" "$2"; fi; }
emit arch "${ARCH:-arm64}"
emit network "${UPSTAT_NETWORK:-}"
emit subnetIds "${UPSTAT_SUBNET_IDS:-}"
emit securityGroupIds "${UPSTAT_SECURITY_GROUP_IDS:-}"
emit vpcId "${UPSTAT_VPC_ID:-}"
emit vpcEndpoints "${UPSTAT_VPC_ENDPOINTS:-}"
emit cache "${UPSTAT_CACHE:-}"
emit redisCluster "${UPSTAT_REDIS_CLUSTER:-}"
emit layout "${UPSTAT_LAYOUT:-}"
emit alarmEmail "${UPSTAT_ALARM_EMAIL:-}"
emit cfnRoleArn "${UPSTAT_CFN_ROLE_ARN:-}"
