"""API Gateway events (HTTP API payload 2.0, REST API 1.0 with a stage) through the Mangum handler."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest
from mangum import Mangum

from tests.conftest import ADMIN_TOKEN
from tests.functions.conftest import LambdaContext, function_module, load_event


@pytest.fixture
def api(env: dict[str, str], r: Any) -> ModuleType:
    return function_module("api")


def v2(method: str, path: str, *, token: str | None = None, body: Any = None, b64: bool = False) -> dict:
    event = load_event("apigw_http_v2")
    event["rawPath"] = path
    event["requestContext"]["http"].update(method=method, path=path)
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    if path == "/":
        event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /"
        event["pathParameters"] = None
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    if body is not None:
        raw = json.dumps(body).encode()
        event["headers"].update({"content-type": "application/json", "content-length": str(len(raw))})
        event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode()
        event["isBase64Encoded"] = b64
    return event


def v1(method: str, path: str, *, stage_in_path: bool = False, token: str | None = None) -> dict:
    event = load_event("apigw_rest_v1")
    stage = event["requestContext"]["stage"]
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = f"/{stage}{path}" if stage_in_path else path
    event["requestContext"]["path"] = f"/{stage}{path}"
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
        event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
    return event


def body_of(response: dict) -> Any:
    raw = response["body"]
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw)
    return json.loads(raw)


def test_http_api_v2_serves_the_openapi_document(api: ModuleType) -> None:
    response = api.handler(v2("GET", "/openapi.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    document = body_of(response)
    assert document["openapi"].startswith("3.")
    assert "/v1/retention" in document["paths"]


def test_rest_api_v1_serves_the_openapi_document(api: ModuleType) -> None:
    response = api.handler(v1("GET", "/openapi.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert body_of(response)["info"]["title"] == "upstat"


def test_rest_api_v1_with_the_stage_in_the_path_reaches_the_same_route(api: ModuleType) -> None:
    event = v1("GET", "/openapi.json", stage_in_path=True)
    assert event["path"] == "/prod/openapi.json"
    response = api.handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert "paths" in body_of(response)


def test_http_api_named_stage_prefix_is_dropped_too(api: ModuleType) -> None:
    event = v2("GET", "/openapi.json")
    event["rawPath"] = "/dev/openapi.json"
    event["requestContext"]["stage"] = "dev"
    assert api.handler(event, LambdaContext())["statusCode"] == 200


def test_plain_mangum_needs_the_base_path_configured_where_the_handler_needs_nothing(api: ModuleType) -> None:
    """Why functions/api rebuilds the path: Mangum strips only a fixed api_gateway_base_path."""
    app = api.get_app()
    event = v1("GET", "/openapi.json", stage_in_path=True)
    assert Mangum(app, lifespan="off")(event, LambdaContext())["statusCode"] == 404
    configured = Mangum(app, lifespan="off", api_gateway_base_path="/prod")
    assert configured(event, LambdaContext())["statusCode"] == 200
    # ... and that setting would have to change with every stage; the route template does not.
    other_stage = v1("GET", "/openapi.json", stage_in_path=True)
    other_stage["path"] = "/dev/openapi.json"
    assert configured(other_stage, LambdaContext())["statusCode"] == 404
    assert api.handler(other_stage, LambdaContext())["statusCode"] == 200


@pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])
def test_an_unknown_route_is_a_404_json_envelope(api: ModuleType, make: Any) -> None:
    response = api.handler(make("GET", "/no/such/route"), LambdaContext())
    assert response["statusCode"] == 404
    body = body_of(response)
    assert (body["status"], body["error"], body["field"]) == (404, "not_found", None)
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])
def test_a_protected_route_without_a_token_is_a_401_envelope(api: ModuleType, make: Any) -> None:
    response = api.handler(make("GET", "/v1/retention"), LambdaContext())
    assert response["statusCode"] == 401
    assert body_of(response)["error"] == "unauthorized"


@pytest.mark.parametrize("make", [v1, v2], ids=["v1", "v2"])
def test_the_admin_token_reads_a_protected_route(api: ModuleType, make: Any) -> None:
    response = api.handler(make("GET", "/v1/retention", token=ADMIN_TOKEN), LambdaContext())
    assert response["statusCode"] == 200
    assert "raw" in body_of(response)["retention"]


@pytest.mark.parametrize("b64", [False, True], ids=["text", "base64"])
def test_an_admin_write_with_a_json_body_goes_through(api: ModuleType, b64: bool) -> None:
    event = v2("PATCH", "/v1/retention", token=ADMIN_TOKEN, body={"retention": {"raw": "72h"}}, b64=b64)
    response = api.handler(event, LambdaContext())
    assert response["statusCode"] == 200, response
    assert body_of(response)["retention"]["raw"] == 72 * 3600
    again = api.handler(v2("GET", "/v1/retention", token=ADMIN_TOKEN), LambdaContext())
    assert body_of(again)["retention"]["raw"] == 72 * 3600


def test_the_root_route_is_routed_to_the_app(api: ModuleType) -> None:
    response = api.handler(v2("GET", "/"), LambdaContext())
    assert response["statusCode"] in (200, 307, 404)
    assert response["headers"]["content-type"].startswith(("application/json", "text/html"))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"httpMethod": "GET", "resource": "/{proxy+}", "pathParameters": {"proxy": "v1/a b"}}, "/v1/a%20b"),
        ({"httpMethod": "GET", "resource": "/", "pathParameters": None}, "/"),
        ({"httpMethod": "GET", "resource": "/api/{proxy+}", "pathParameters": {"proxy": "x/y"}}, "/api/x/y"),
        ({"routeKey": "ANY /{proxy+}", "pathParameters": {"proxy": "openapi.json"}}, "/openapi.json"),
        ({"routeKey": "GET /v1/series/{id}", "pathParameters": {"id": "a/b"}}, "/v1/series/a/b"),
        ({"routeKey": "$default", "rawPath": "/x"}, None),
        ({"routeKey": "ANY /{proxy+}", "pathParameters": {}}, None),
    ],
)
def test_route_path_rebuilds_the_path_from_the_route_template(
    api: ModuleType, event: dict, expected: str | None
) -> None:
    assert api.route_path(event) == expected
