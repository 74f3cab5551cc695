"""The deployed stack passes SSM parameter names; values are read at run time (moto stands in for SSM)."""

from __future__ import annotations

import json
from typing import Any

from tests.functions.conftest import (
    ADMIN_PARAM,
    REDIS_PARAM,
    SSM_ADMIN_TOKEN,
    LambdaContext,
    count_get_parameter,
    function_module,
    load_event,
)
from tests.functions.test_api_handler import body_of, v2
from upstat import aws


def test_a_securestring_parameter_is_decrypted_and_cached_between_calls(ssm: Any) -> None:
    calls = count_get_parameter()
    assert aws.get_ssm_parameter(ADMIN_PARAM) == SSM_ADMIN_TOKEN
    ssm.put_parameter(Name=ADMIN_PARAM, Value="rotated", Type="SecureString", Overwrite=True)
    assert aws.get_ssm_parameter(ADMIN_PARAM) == SSM_ADMIN_TOKEN  # warm invocation: no SSM call
    assert calls == [ADMIN_PARAM]
    assert aws.get_ssm_parameter(ADMIN_PARAM, max_age_s=0) == "rotated"  # past max_age: read again
    assert calls == [ADMIN_PARAM, ADMIN_PARAM]


def test_a_scheduled_job_finds_redis_through_the_url_parameter(ssm: Any) -> None:
    calls = count_get_parameter()
    handler = function_module("rollup").handler
    first = handler(load_event("scheduler_input"), LambdaContext())
    second = handler(load_event("scheduler_input"), LambdaContext())
    assert first["job"] == second["job"] == "rollup"
    assert first["complete"] and second["complete"]
    assert calls == [REDIS_PARAM]  # one read per container, then the client is reused
    json.dumps(first)


def test_the_admin_token_from_ssm_opens_admin_routes_and_is_read_once(ssm: Any) -> None:
    api = function_module("api")
    calls = count_get_parameter()
    for _ in range(3):
        ok = api.handler(v2("GET", "/v1/retention", token=SSM_ADMIN_TOKEN), LambdaContext())
        assert ok["statusCode"] == 200, ok
    refused = api.handler(v2("GET", "/v1/retention", token="not-the-ssm-admin-token"), LambdaContext())
    assert refused["statusCode"] == 401
    assert body_of(refused)["error"] == "unauthorized"
    assert calls.count(ADMIN_PARAM) == 1
    assert calls.count(REDIS_PARAM) == 1


def test_a_missing_parameter_is_a_typed_error_not_a_500(ssm: Any) -> None:
    ssm.delete_parameter(Name=ADMIN_PARAM)
    aws.reset()
    response = function_module("api").handler(v2("GET", "/v1/retention", token="anything"), LambdaContext())
    assert response["statusCode"] == 503
    assert body_of(response)["status"] == 503
