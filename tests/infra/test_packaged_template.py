"""The CloudFormation template `make package` builds (.serverless/cloudformation-template-update-stack.json),
checked as CloudFormation will read it: what a review of the packaged stack asks of the datastore, failure
handling, logs and alarms, network and scale.

`make test` runs these after `make package` (marker "packaged"); run alone, they skip with the reason when
the template is missing or older than its sources.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from upstat.jobs import SCHEDULES
from upstat.metrics import METRICS

pytestmark = pytest.mark.packaged

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
STACK_FILES = [
    "resources.yml",
    "split.yml",
    "api.yml",
    "network.yml",
    "iam.yml",
    "alarms.yml",
    "cfn-extras.js",
]
SOURCES = [ROOT / "serverless.yml", *(ROOT / "infra" / name for name in STACK_FILES)]
SCHEDULED = {s.name: s.rate_seconds for s in SCHEDULES}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    if not TEMPLATE.exists():
        pytest.skip(f"{TEMPLATE.relative_to(ROOT)} is missing: run `make package` (or `make test`)")
    stale = [p.name for p in SOURCES if p.stat().st_mtime > TEMPLATE.stat().st_mtime]
    if stale:
        pytest.skip(f"the packaged template is older than {', '.join(stale)}: run `make package`")
    return json.loads(TEMPLATE.read_text())


def stage_of(template: dict[str, Any]) -> str:
    """The stage it was packaged for (``ci`` by default, the deploy's stage in CI)."""
    return str(
        template["Resources"]["ApiLambdaFunction"]["Properties"]["Environment"]["Variables"]["UPSTAT_STAGE"]
    )


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def logical_id(function: str) -> str:
    return function[0].upper() + function[1:] + "LambdaFunction"


def role_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement the function's role may hold: a policy under ``Fn::If`` counts as if its condition
    held (the most the role can be allowed)."""
    role = template["Resources"][logical_id(function)]["Properties"]["Role"]["Fn::GetAtt"][0]
    props = template["Resources"][role]["Properties"]
    policies = []
    for policy in props.get("Policies", []):
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        policies += [p for p in branches if isinstance(p, dict) and "PolicyDocument" in p]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def allows(statements: list[dict[str, Any]], action: str, resource_text: str) -> bool:
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if s["Effect"] == "Allow" and action in actions and resource_text in json.dumps(s["Resource"]):
            return True
    return False


# --- a tiny evaluator of the conditions and rules, with parameter values as CloudFormation would get them


def evaluate(node: Any, params: dict[str, Any], template: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return params[arg]
        if fn == "Condition":
            return evaluate(template["Conditions"][arg], params, template)
        if fn == "Fn::Equals":
            left, right = (evaluate(a, params, template) for a in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not evaluate(arg[0], params, template)
        if fn == "Fn::And":
            return all(evaluate(a, params, template) for a in arg)
        if fn == "Fn::Or":
            return any(evaluate(a, params, template) for a in arg)
        if fn == "Fn::Join":
            return arg[0].join(evaluate(arg[1], params, template))
        raise AssertionError(f"not evaluated here: {fn}")
    return node


def parameters(template: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        default = spec.get("Default", "")
        values[name] = default.split(",") if spec["Type"] == "CommaDelimitedList" else default
    values.update(overrides)
    return values


def rule_failures(template: dict[str, Any], **overrides: Any) -> list[str]:
    """The AssertDescriptions CloudFormation would refuse a stack update with, for these parameters."""
    params = parameters(template, **overrides)
    failed = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], params, template):
            continue
        failed += [
            a["AssertDescription"] for a in rule["Assertions"] if not evaluate(a["Assert"], params, template)
        ]
    return failed


# --- the datastore ---------------------------------------------------------------------------------------


def test_the_cache_outlives_the_stack_and_a_flipped_parameter(template: dict[str, Any]) -> None:
    cache = template["Resources"]["Cache"]
    assert cache["Type"] == "AWS::ElastiCache::ServerlessCache"
    assert cache["DeletionPolicy"] in ("Retain", "Snapshot")
    assert cache["UpdateReplacePolicy"] in ("Retain", "Snapshot")


def test_the_cache_is_snapshotted_daily_and_keeps_a_configurable_number(template: dict[str, Any]) -> None:
    props = template["Resources"]["Cache"]["Properties"]
    assert re.fullmatch(r"\d\d:\d\d", props["DailySnapshotTime"])
    assert props["SnapshotRetentionLimit"] == {"Ref": "CacheSnapshotRetentionDays"}
    spec = template["Parameters"]["CacheSnapshotRetentionDays"]
    assert 1 <= int(spec["Default"]) <= spec["MaxValue"] == 35


def test_the_cache_has_usage_limits(template: dict[str, Any]) -> None:
    limits = template["Resources"]["Cache"]["Properties"]["CacheUsageLimits"]
    assert limits["DataStorage"] == {"Maximum": {"Ref": "CacheMaxDataGb"}, "Unit": "GB"}
    assert limits["ECPUPerSecond"] == {"Maximum": {"Ref": "CacheMaxEcpuPerSecond"}}
    assert int(template["Parameters"]["CacheMaxDataGb"]["Default"]) >= 1


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        ({"CacheMode": "elasticache", "NetworkMode": "none"}, True),
        ({"CacheMode": "elasticache", "NetworkMode": "vpc"}, False),
        ({"CacheMode": "external", "NetworkMode": "none"}, False),
        ({"VpcEndpoints": "true", "NetworkMode": "vpc", "VpcId": ""}, True),
        ({"VpcEndpoints": "true", "NetworkMode": "vpc", "VpcId": "vpc-0abc"}, False),
        ({"VpcEndpoints": "true", "NetworkMode": "none", "VpcId": "vpc-0abc"}, True),
        ({"CustomDomain": "api.example.com", "CertificateArn": ""}, True),
        (
            {"CustomDomain": "api.example.com", "CertificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"},
            False,
        ),
    ],
)
def test_the_template_rules_refuse_combinations_that_cannot_work(
    template: dict[str, Any], overrides: dict[str, str], refused: bool
) -> None:
    assert bool(rule_failures(template, **overrides)) is refused
    if overrides == {"CacheMode": "elasticache", "NetworkMode": "none"}:
        assert rule_failures(template, **overrides) == [
            "cache=elasticache needs network=vpc (the cache lives in subnetIds)"
        ]


def test_the_defaults_pass_the_rules(template: dict[str, Any]) -> None:
    assert rule_failures(template) == []


def test_with_elasticache_the_functions_get_its_address_as_a_plain_variable(template: dict[str, Any]) -> None:
    for function in ("api", "ping", "pingWorker", "rollup", "retention", "openvpn"):
        env = template["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        condition, with_cache, without = env["UPSTAT_REDIS_URL"]["Fn::If"]
        assert condition == "CreateCache" and without == {"Ref": "AWS::NoValue"}
        assert "Cache" in json.dumps(with_cache) and "Endpoint.Address" in json.dumps(with_cache)
        assert env["UPSTAT_REDIS_URL_SSM_PARAMETER"]["Fn::If"][1] == {"Ref": "AWS::NoValue"}


# --- failure handling ------------------------------------------------------------------------------------


def test_the_ping_queue_keeps_a_failed_batch_until_it_is_dead_lettered(template: dict[str, Any]) -> None:
    queue = template["Resources"]["PingQueue"]["Properties"]
    visibility, retention = queue["VisibilityTimeout"], queue["MessageRetentionPeriod"]
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    assert retention >= 3 * visibility
    # The last failed receive ends about receives x visibility after the send; the move to the dead-letter
    # queue happens on the receive after it, which must come before the message expires.
    assert retention > (receives + 1) * visibility
    worker = template["Resources"]["PingWorkerLambdaFunction"]["Properties"]
    assert visibility >= 6 * worker["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PingDeadLetterQueue", "Arn"]}


@pytest.mark.parametrize("job", sorted(SCHEDULED))
def test_a_scheduled_job_is_not_retried_and_its_event_expires_after_one_period(
    template: dict[str, Any], job: str
) -> None:
    function = logical_id(job)
    [config] = [
        r["Properties"]
        for r in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert config["MaximumRetryAttempts"] == 0
    assert 60 <= config["MaximumEventAgeInSeconds"] <= max(60, SCHEDULED[job])
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["JobFailuresQueue", "Arn"]}
    # Lambda sends to the destination with the function's own role.
    assert allows(role_statements(template, job), "sqs:SendMessage", "JobFailuresQueue")


@pytest.mark.parametrize("job", sorted(SCHEDULED))
def test_the_scheduler_gives_up_within_one_period_too(template: dict[str, Any], job: str) -> None:
    [schedule] = [
        r["Properties"]
        for r in resources(template, "AWS::Scheduler::Schedule").values()
        if r["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [logical_id(job), "Arn"]}
    ]
    target = schedule["Target"]
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= max(60, SCHEDULED[job])
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["JobFailuresQueue", "Arn"]}}
    scheduler = template["Resources"]["SchedulerRole"]["Properties"]["Policies"]
    statements = [s for p in scheduler for s in p["PolicyDocument"]["Statement"]]
    assert allows(statements, "sqs:SendMessage", "JobFailuresQueue")


# --- logs, metrics, alarms --------------------------------------------------------------------------------


def test_every_function_logs_json_at_info(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == 8  # api, ping, pingWorker, rollup, retention, openvpn; checker, writer (split)
    for name, function in functions.items():
        logging = function["Properties"]["LoggingConfig"]
        assert (logging["LogFormat"], logging["ApplicationLogLevel"]) == ("JSON", "INFO"), name


def test_the_metric_alarms_watch_what_the_functions_write(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    ours = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in alarms.values()
        if a["Properties"]["Namespace"] == "upstat"
    }
    assert {"PingBatchesFailed", "AlertsFailed"} <= set(ours)
    for name, props in ours.items():
        assert name in METRICS
        for function in resources(template, "AWS::Lambda::Function").values():
            env = function["Properties"]["Environment"]["Variables"]
            assert env["UPSTAT_METRICS_NAMESPACE"] == props["Namespace"]
            assert props["Dimensions"] == [{"Name": "Stage", "Value": env["UPSTAT_STAGE"]}]
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 1


def test_an_alarm_email_is_subscribed_to_the_ops_topic(template: dict[str, Any]) -> None:
    [subscription] = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "OpsAlarmsTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert evaluate({"Condition": "HasAlarmEmail"}, parameters(template), template) is False
    assert evaluate(
        {"Condition": "HasAlarmEmail"}, parameters(template, AlarmEmail="ops@example.com"), template
    )
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]


def test_the_http_api_5xx_alarm(template: dict[str, Any]) -> None:
    [alarm] = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "5xx"
    ]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)


def test_the_ping_heartbeat_alarm_fires_when_nothing_runs(template: dict[str, Any]) -> None:
    [alarm] = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Invocations"
    ]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "PingLambdaFunction"}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["Period"] * alarm["EvaluationPeriods"] >= 2 * SCHEDULED["ping"]


def test_the_http_api_writes_a_json_access_log_with_the_lambda_request_id(template: dict[str, Any]) -> None:
    stage = template["Resources"]["HttpApiStage"]["Properties"]
    access = stage["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["HttpApiLogGroup", "Arn"]}
    sample = json.loads(re.sub(r"\$context\.[\w.]+", "x", access["Format"]))
    assert {"requestId", "integrationRequestId", "status", "path", "ip"} <= set(sample)
    assert "$context.integration.requestId" in access["Format"]
    assert "querystring" not in access["Format"].lower() and "authorization" not in access["Format"].lower()
    assert template["Resources"]["HttpApiLogGroup"]["Properties"]["RetentionInDays"] >= 1


# --- network and scale ------------------------------------------------------------------------------------


def test_vpc_endpoints_are_an_option_for_ssm_sns_and_sqs(template: dict[str, Any]) -> None:
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    services = sorted(
        json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].strip('"}') for e in endpoints.values()
    )
    assert services == ["sns", "sqs", "ssm"]
    for endpoint in endpoints.values():
        assert endpoint["Condition"] == "CreateEndpoints"
        assert endpoint["Properties"]["PrivateDnsEnabled"] is True
    off, on = (
        evaluate({"Condition": "CreateEndpoints"}, parameters(template, **p), template)
        for p in ({}, {"NetworkMode": "vpc", "VpcEndpoints": "true", "VpcId": "vpc-1"})
    )
    assert (off, on) == (False, True)


def test_scale_is_bounded(template: dict[str, Any]) -> None:
    mapping = template["Resources"]["PingWorkerEventSourceMappingSQSPingQueue"]
    assert mapping["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "PingWorkerMaxConcurrency"}
    }
    assert 2 <= int(template["Parameters"]["PingWorkerMaxConcurrency"]["Default"]) <= 1000
    routes = template["Resources"]["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
    assert routes["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
    assert routes["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
    api = template["Resources"]["ApiLambdaFunction"]["Properties"]
    assert api["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert evaluate({"Condition": "ReserveApiConcurrency"}, parameters(template), template) is False
    assert evaluate(
        {"Condition": "ReserveApiConcurrency"}, parameters(template, ApiReservedConcurrency="20"), template
    )


def test_cors_and_a_custom_domain_are_optional(template: dict[str, Any]) -> None:
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "HasCorsOrigins" and cors[1]["AllowOrigins"] == {"Ref": "CorsOrigins"}
    assert evaluate({"Condition": "HasCorsOrigins"}, parameters(template), template) is False
    assert evaluate(
        {"Condition": "HasCorsOrigins"}, parameters(template, CorsOrigins=["https://a.example"]), template
    )
    domain = template["Resources"]["ApiDomainName"]
    mapping = template["Resources"]["ApiDomainMapping"]
    assert domain["Condition"] == mapping["Condition"] == "HasCustomDomain"
    assert mapping["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    assert domain["Properties"]["DomainNameConfigurations"][0]["CertificateArn"] == {"Ref": "CertificateArn"}


# --- secrets and permissions ------------------------------------------------------------------------------


def test_the_webhook_secret_is_an_ssm_parameter_read_by_the_functions_that_alert(
    template: dict[str, Any],
) -> None:
    for function in ("api", "ping", "pingWorker", "rollup"):  # rollup: the alert rules' changes
        env = template["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert env["UPSTAT_WEBHOOK_SECRET_SSM_PARAMETER"] == f"/upstat/{stage_of(template)}/webhook-secret"
        assert "UPSTAT_WEBHOOK_SECRET" not in env
        assert allows(role_statements(template, function), "ssm:GetParameter", "/webhook-secret")
        assert allows(role_statements(template, function), "sns:Publish", "AlertsTopic")
    for function in ("retention", "openvpn"):
        assert not allows(role_statements(template, function), "ssm:GetParameter", "/webhook-secret")
        assert not allows(role_statements(template, function), "ssm:GetParameter", "/admin-token")
    assert allows(role_statements(template, "api"), "ssm:GetParameter", "/admin-token")
    assert not allows(role_statements(template, "ping"), "ssm:GetParameter", "/admin-token")
    assert not allows(role_statements(template, "rollup"), "ssm:GetParameter", "/admin-token")


def test_the_channel_key_is_an_ssm_parameter_and_the_alerting_functions_may_send_to_channels(
    template: dict[str, Any],
) -> None:
    for function in ("api", "ping", "pingWorker", "rollup", "writer"):
        env = template["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert env["UPSTAT_CHANNEL_KEY_SSM_PARAMETER"] == f"/upstat/{stage_of(template)}/channel-key"
        assert "UPSTAT_CHANNEL_KEY" not in env
        statements = role_statements(template, function)
        assert allows(statements, "ssm:GetParameter", "/channel-key")
        assert allows(statements, "ses:SendEmail", ":identity/*")
        assert allows(statements, "sns:Publish", ":sns:")
    for function in ("retention", "openvpn"):
        statements = role_statements(template, function)
        assert not allows(statements, "ssm:GetParameter", "/channel-key")
        assert not allows(statements, "ses:SendEmail", "")


def test_no_secret_value_is_in_the_template(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert "{{resolve:" not in text
    for function in resources(template, "AWS::Lambda::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        assert not {
            "UPSTAT_ADMIN_TOKEN",
            "UPSTAT_WEBHOOK_SECRET",
            "UPSTAT_CHANNEL_KEY",
            "UPSTAT_ALERT_WEBHOOKS",
            "REDIS_URL",
        } & set(env)


def test_the_stage_parameters_set_real_settings_and_empty_means_the_default(template: dict[str, Any]) -> None:
    from upstat.config import Settings, env_names, from_env, setting_names

    known = {name for field in setting_names() for name in env_names(field)}
    for name, function in resources(template, "AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        upstat_vars = {k for k in env if k.startswith("UPSTAT_")}
        assert upstat_vars <= known, (name, upstat_vars - known)
        assert {"UPSTAT_PUBLIC_READ", "UPSTAT_RATE_LIMIT_PER_KEY", "UPSTAT_HISTORY_TTL_S"} <= upstat_vars
        literal = {k: v for k, v in env.items() if isinstance(v, str)}
        settings = from_env(literal)  # what the function reads: no error, empty values leave the default
        assert settings.public_read is Settings.public_read and settings.rate_limit_per_key == 600
        assert settings.metrics_namespace == "upstat" and settings.stage == stage_of(template)


def test_the_openvpn_job_reads_s3_only_in_the_configured_bucket(template: dict[str, Any]) -> None:
    role = template["Resources"]["OpenvpnLambdaFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    [conditional] = [p for p in template["Resources"][role]["Properties"]["Policies"] if "Fn::If" in p]
    condition, _, otherwise = conditional["Fn::If"]
    assert (condition, otherwise) == ("ReadsOpenvpnBucket", {"Ref": "AWS::NoValue"})
    statements = role_statements(template, "openvpn")
    assert allows(statements, "s3:GetObject", "${OpenvpnBucket}/*")
    assert allows(statements, "s3:ListBucket", "${OpenvpnBucket}")
    assert not any("s3:*" in json.dumps(s["Action"]) for s in statements)
    assert evaluate({"Condition": "ReadsOpenvpnBucket"}, parameters(template), template) is False
    assert evaluate(
        {"Condition": "ReadsOpenvpnBucket"}, parameters(template, OpenvpnBucket="vpn-files"), template
    )


# --- the split layout --------------------------------------------------------------------------------------

SPLIT_ONLY = [
    "CheckerLambdaFunction",
    "WriterLambdaFunction",
    "CheckerLogGroup",
    "WriterLogGroup",
    "CheckerRole",
    "WriterRole",
    "CheckQueue",
    "CheckDeadLetterQueue",
    "ResultQueue",
    "ResultDeadLetterQueue",
    "CheckerEventSourceMappingSQSCheckQueue",
    "WriterEventSourceMappingSQSResultQueue",
    "CheckerErrorsAlarm",
    "CheckerThrottlesAlarm",
    "WriterErrorsAlarm",
    "WriterThrottlesAlarm",
    "CheckDeadLetterAlarm",
    "ResultDeadLetterAlarm",
]
#: Variables that lead to the store or to a secret: the checker must have none of them.
STORE_AND_SECRETS = [
    "UPSTAT_REDIS_URL",
    "UPSTAT_REDIS_URL_SSM_PARAMETER",
    "UPSTAT_ADMIN_TOKEN_SSM_PARAMETER",
    "UPSTAT_WEBHOOK_SECRET_SSM_PARAMETER",
    "UPSTAT_CHANNEL_KEY_SSM_PARAMETER",
    "UPSTAT_ALERTS_TOPIC_ARN",
]


def present(env: dict[str, Any]) -> set[str]:
    """The variables a function really gets (a NoValue removes one)."""
    return {k for k, v in env.items() if v != {"Ref": "AWS::NoValue"}}


def test_the_layout_is_a_parameter_single_by_default(template: dict[str, Any]) -> None:
    spec = template["Parameters"]["Layout"]
    assert spec["AllowedValues"] == ["single", "split"] and spec["Default"] == "single"
    assert evaluate({"Condition": "SplitLayout"}, parameters(template), template) is False
    assert evaluate({"Condition": "SplitLayout"}, parameters(template, Layout="split"), template) is True
    for name in SPLIT_ONLY:
        assert template["Resources"][name].get("Condition") == "SplitLayout", name
    for output in ("CheckQueueUrl", "ResultQueueUrl"):
        assert template["Outputs"][output]["Condition"] == "SplitLayout"


def test_in_the_split_layout_the_checker_runs_outside_the_vpc_and_the_writer_inside(
    template: dict[str, Any],
) -> None:
    checker = template["Resources"]["CheckerLambdaFunction"]["Properties"]
    writer = template["Resources"]["WriterLambdaFunction"]["Properties"]
    assert "VpcConfig" not in checker
    condition, inside, outside = writer["VpcConfig"]["Fn::If"]
    assert condition == "InVpc" and outside == {"Ref": "AWS::NoValue"}
    assert inside["SubnetIds"] == {"Ref": "SubnetIds"}
    # Every other function that reaches Redis is in the VPC too (with network=vpc).
    for function in ("api", "ping", "pingWorker", "rollup", "retention", "openvpn"):
        props = template["Resources"][logical_id(function)]["Properties"]
        assert props["VpcConfig"]["Fn::If"][0] == "InVpc", function


def test_the_checker_knows_no_redis_address_and_may_read_no_parameter(template: dict[str, Any]) -> None:
    env = template["Resources"]["CheckerLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert not set(STORE_AND_SECRETS) & present(env)
    assert env["UPSTAT_RESULT_QUEUE_URL"] == {"Ref": "ResultQueue"}
    assert "UPSTAT_ALLOWED_TARGETS" in env  # the SSRF guard's policy still applies
    role = template["Resources"]["CheckerRole"]["Properties"]
    assert "ManagedPolicyArns" not in role  # neither the redis-url parameter nor the VPC access policy
    statements = role_statements(template, "checker")
    actions = {
        a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
    }
    assert allows(statements, "sqs:ReceiveMessage", "CheckQueue")
    assert allows(statements, "sqs:SendMessage", "ResultQueue")
    assert not allows(statements, "sqs:SendMessage", "CheckQueue")


def test_the_writer_records_and_alerts_and_nothing_more(template: dict[str, Any]) -> None:
    statements = role_statements(template, "writer")
    assert allows(statements, "sqs:ReceiveMessage", "ResultQueue")
    assert allows(statements, "ssm:GetParameter", "/webhook-secret")
    assert allows(statements, "sns:Publish", "AlertsTopic")
    assert not allows(statements, "ssm:GetParameter", "/admin-token")
    assert not any("CheckQueue" in json.dumps(s["Resource"]) for s in statements)
    role = template["Resources"]["WriterRole"]["Properties"]
    assert {"Ref": "ReadConfigPolicy"} in role["ManagedPolicyArns"]
    env = template["Resources"]["WriterLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert "UPSTAT_CHECK_QUEUE_URL" not in present(env)


def test_only_in_the_split_layout_may_the_ping_job_hand_out_checks(template: dict[str, Any]) -> None:
    role = template["Resources"]["PingRole"]["Properties"]
    [conditional] = [p for p in role["Policies"] if "Fn::If" in p]
    condition, policy, otherwise = conditional["Fn::If"]
    assert (condition, otherwise) == ("SplitLayout", {"Ref": "AWS::NoValue"})
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["CheckQueue", "Arn"]}
    for function in ("api", "ping"):
        env = template["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert env["UPSTAT_CHECK_QUEUE_URL"] == {
            "Fn::If": ["SplitLayout", {"Ref": "CheckQueue"}, {"Ref": "AWS::NoValue"}]
        }


@pytest.mark.parametrize(("queue", "consumer"), [("CheckQueue", "checker"), ("ResultQueue", "writer")])
def test_the_split_queues_keep_a_failed_batch_until_it_is_dead_lettered(
    template: dict[str, Any], queue: str, consumer: str
) -> None:
    props = template["Resources"][queue]["Properties"]
    visibility, retention = props["VisibilityTimeout"], props["MessageRetentionPeriod"]
    receives = props["RedrivePolicy"]["maxReceiveCount"]
    assert retention > (receives + 1) * visibility
    assert visibility >= 6 * template["Resources"][logical_id(consumer)]["Properties"]["Timeout"]
    dead = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert template["Resources"][dead]["Properties"]["SqsManagedSseEnabled"] is True
    assert props["SqsManagedSseEnabled"] is True
    [alarm] = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead, "QueueName"]}}]
    ]
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    mapping = template["Resources"][
        f"{logical_id(consumer)[: -len('LambdaFunction')]}EventSourceMappingSQS{queue}"
    ]
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumConcurrency" in mapping["Properties"]["ScalingConfig"]
