"""The OpenAPI document: every route with its models, an example of its answer, and its errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from upstat.api.app import create_app


def _has_example(
    schema: dict[str, Any] | None, schemas: dict[str, Any], seen: frozenset[str] = frozenset()
) -> bool:
    if not schema:
        return False
    if "examples" in schema or "example" in schema:
        return True
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return name not in seen and _has_example(schemas[name], schemas, seen | {name})
    if "items" in schema and _has_example(schema["items"], schemas, seen):
        return True
    return any(_has_example(s, schemas, seen) for k in ("anyOf", "oneOf", "allOf") for s in schema.get(k, []))


def _documented(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{m.upper()} {p}", op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_route_shows_an_example_answer_and_its_errors(env: dict[str, str]) -> None:
    doc = TestClient(create_app()).get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    without_example, without_errors = [], []
    for name, op in _documented(doc):
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        contents = [c for r in ok.values() for c in r.get("content", {}).values()]
        if ok and not contents:
            # an answer without a body (OPTIONS' 204: the methods in Allow; OpenWISP's empty 200 to a report)
            continue
        if not any(
            "example" in c or "examples" in c or _has_example(c.get("schema"), schemas) for c in contents
        ):
            without_example.append(name)
        if not any(code.startswith("4") for code in op["responses"]):
            without_errors.append(name)
    assert without_example == []
    assert without_errors == []
    assert len(doc["paths"]) >= 38


def test_error_responses_are_the_envelope_on_upstat_routes(env: dict[str, str]) -> None:
    doc = TestClient(create_app()).get("/openapi.json").json()
    for name, op in _documented(doc):
        if " /v1/" in name and " /v1/api/" not in name:  # /v1/api is the Netflow Collector document's
            ref = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), name


def test_published_examples_keep_their_nulls(env: dict[str, str]) -> None:
    # FastAPI drops None from the whole document (fastapi/fastapi#5559); a window without checks is null.
    doc = TestClient(create_app()).get("/openapi.json").json()
    [example] = doc["components"]["schemas"]["Uptimes"]["examples"]
    assert "90d" in example and example["90d"] is None


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/services", "GET, HEAD, POST"),
        ("/v1/services/api", "DELETE, GET, HEAD, PATCH"),
        ("/v1/keys/abc", "DELETE, GET, HEAD"),
        ("/api/services", "DELETE, GET, HEAD, POST, PUT"),
        ("/api/ping-history/ttl", "GET, HEAD, PATCH"),
        ("/v1/retention", "GET, HEAD, PATCH"),
        ("/v1/push/tok", "GET, HEAD, POST"),
        ("/v1/ingest", "POST"),
    ],
)
def test_a_wrong_method_answers_405_listing_every_method_of_the_path(
    env: dict[str, str], path: str, methods: str
) -> None:
    res = TestClient(create_app()).request("OPTIONS", path)
    assert res.status_code == 405 and res.headers["allow"] == methods
    assert res.json()["message"].endswith(f"allowed: {methods}")


@pytest.mark.parametrize("path", ["/healthz", "/status", "/", "/dashboard", "/v1/status/page"])
def test_head_answers_where_get_does_with_headers_only(env: dict[str, str], r: Any, path: str) -> None:
    # Uptime checkers and `curl -I` ask with HEAD; it used to answer 405.
    client = TestClient(create_app())
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content) > 0


def test_head_of_a_post_only_route_is_405(env: dict[str, str]) -> None:
    res = TestClient(create_app()).head("/v1/ingest")
    assert res.status_code == 405 and res.headers["allow"] == "POST"


def _body_examples(doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, path, example) for every example a request body publishes, inline or on its model."""
    schemas = doc["components"]["schemas"]
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if not schema:
                continue
            refs = [schema, *schema.get("anyOf", [])]
            found = list(schema.get("examples", []))
            for ref in refs:
                if "$ref" in ref:
                    found += schemas[ref["$ref"].rsplit("/", 1)[-1]].get("examples", [])
            out += [(method.upper(), path, example) for example in found]
    return out


def backup_server_with_a_job(r: Any) -> None:
    """Backup server 1 with a job named "documents" (for the paths of /v1/backups), from one report."""
    from tests.api.test_authorization_matrix import duplicati_report
    from upstat.backups import runs
    from upstat.clock import now_ms
    from upstat.dialects.duplistatus.report import to_run
    from upstat.timeseries.retention import current_engine

    now = now_ms()
    runs.record(current_engine(r, fresh=True), r, to_run(duplicati_report("m1", now - 60_000)), now=now)


def a_rule(r: Any) -> None:
    """Rule "slow-api" (the {id} of /v1/rules/{id})."""
    from upstat.rules import store
    from upstat.rules.model import parse_rule
    from upstat.timeseries.retention import current_engine

    body = {"name": "slow api", "source": "api", "expression": "p95(response_ms, 15m) > 800"}
    store.save(r, parse_rule(body, current_engine(r, fresh=True).tiers, rule_id="slow-api", now=1))


def test_every_published_request_example_is_accepted_as_published(env: dict[str, str], r: Any) -> None:
    """Sent as published (path names filled with an existing service "api", source "edge-router" (also the
    OpenWISP device {pk}), organization "acme", rule "slow-api", a channel and a status-page subscriber),
    each answers 2xx."""
    from tests.conftest import ADMIN_TOKEN
    from upstat.notify import store as notify_store
    from upstat.notify.store import ChannelStore
    from upstat.sources import store as registry
    from upstat.uptime import subscribers
    from upstat.uptime.services import ServiceStore

    client = TestClient(create_app())
    doc = client.get("/openapi.json").json()
    examples = _body_examples(doc)
    assert len(examples) >= 12
    for method, path, example in examples:
        r.flushall()
        ServiceStore(r).create({"name": "api", "url": "https://example.com"})
        if (method, path) != ("POST", "/v1/organizations"):
            registry.create_organization(r, slug="acme", name="Acme", now_ms=1)
        if path.startswith("/v1/sources/") or "{pk}" in path:
            registry.create_source(r, "edge-router", kind="device", now_ms=1)
        backup_server_with_a_job(r)
        a_rule(r)
        # under the id the examples name (the channel example's, which the rule example sends to)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(notify_store, "token_source", SimpleNamespace(token_hex=lambda _: "4f2a9c0d1e7b"))
            channel = ChannelStore(r).create(
                {"name": "c", "kind": "webhook", "config": {"url": "https://x.io/h"}}
            )
        ids = {"sources": "edge-router", "rules": "slow-api", "channels": channel.id}
        hook = subscribers.SubscriberIn(url="https://hooks.example.com/T0/secret")
        subscriber = subscribers.create(r, hook, now_ms=1).id
        res = client.request(
            method,
            path.replace("{name}", "api")
            .replace("{pk}", "edge-router")
            .replace("{id}", next((v for k, v in ids.items() if f"/{k}/" in path), "acme"))
            .replace("{server}", "1")
            .replace("{job}", "documents")
            .replace("{subscriber_id}", subscriber),
            params={"name": "api"} if path == "/api/services" and method == "PUT" else None,
            json=example,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        if path in ("/v1/services", "/api/services") and method == "POST" and example.get("name") == "api":
            assert res.status_code == 409  # the example's own name, taken by the service made above
            r.flushall()
            res = client.request(
                method, path, json=example, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
        assert 200 <= res.status_code < 300, (method, path, example, res.text)


def test_every_route_is_served_by_the_router_the_table_names(env: dict[str, str]) -> None:
    """The app includes a router when a request first needs it, by path prefix (upstat.api.app.ROUTERS):
    each route's path must name its own module."""
    import importlib

    from upstat.api.app import ROUTERS, owner

    for name, _ in ROUTERS:
        for route in importlib.import_module(name).router.routes:
            assert owner(route.path) == name, route.path  # type: ignore[attr-defined]


def test_a_first_request_builds_only_the_routes_it_needs(env: dict[str, str], r: Any) -> None:
    from upstat.api.app import ROUTERS

    app = create_app()
    client = TestClient(app)
    assert not app.state.routers.loaded and len(app.routes) < 10  # nothing built at import
    assert client.get("/api/status").status_code == 200
    assert app.state.routers.loaded == {"upstat.dialects.openuptimes"}
    assert client.get("/healthz").status_code == 200
    assert app.state.routers.loaded == {"upstat.dialects.openuptimes", "upstat.api.routes.meta"}
    assert client.get("/no/such/path").status_code == 404  # a path no router claims: all are there to say so
    assert app.state.routers.loaded == {name for name, _ in ROUTERS}


def test_under_snapstart_every_route_is_built_before_the_snapshot(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda restores SnapStart functions from a snapshot taken after the import: building the routes
    then costs no request anything, so none is left for the first request."""
    from upstat.api.app import ROUTERS, get_app
    from upstat.config import get_settings

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    get_settings.cache_clear()
    get_app.cache_clear()
    try:
        assert len(get_app().state.routers.loaded) == len(ROUTERS)
    finally:
        get_app.cache_clear()
