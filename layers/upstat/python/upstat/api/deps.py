"""FastAPI dependencies: settings, the Redis client, the engine and the caller, as ``Annotated`` aliases.

Tests override ``get_settings``/``get_redis`` through ``app.dependency_overrides`` when they need to.

The caller dependencies (``require``, ``Reader``/``Writer``/``Admin``, ``require_source_key_query``)
authenticate the token and charge the rate limits in one Redis round trip (upstat.auth.service.admit); a
request is admitted once even when several dependencies ask who is calling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from upstat.auth import ANONYMOUS_READER, Principal
from upstat.config import Settings, get_settings
from upstat.errors import Forbidden, Unauthorized
from upstat.store.client import get_redis
from upstat.timeseries.engine import Engine

SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Any, Depends(get_redis)]


def get_engine(client: RedisDep) -> Engine:
    from upstat.timeseries.retention import current_engine

    return current_engine(client)


EngineDep = Annotated[Engine, Depends(get_engine)]


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (None when absent; "" when the header is not of that
    form)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def client_address(request: Request) -> str:
    """The caller's address for per-address limits.

    Behind API Gateway, mangum fills the ASGI ``client`` from ``requestContext.http.sourceIp`` (HTTP API)
    or ``requestContext.identity.sourceIp`` (REST API): the address API Gateway itself saw. That is used
    rather than X-Forwarded-For, whose first hop the caller writes and could change on every request.
    """
    return request.client.host if request.client and request.client.host else "unknown"


def _admit(request: Request, settings: Settings, client: Any, token: str | None, field: str) -> Principal:
    from upstat.auth.service import admit

    principal = admit(token, client_address(request), settings=settings, client=client, field=field)
    request.state.principal = principal
    return principal


def _caller(request: Request, settings: Settings, client: Any, *, public: bool) -> Principal:
    admitted: Principal | None = getattr(request.state, "principal", None)
    if admitted is not None:
        return admitted
    token = bearer_token(request)
    if token is None and not public:
        from upstat.auth.service import refuse

        refuse(  # counted against the address like any refused credential: probing is limited too
            client_address(request),
            "a bearer token is required",
            settings=settings,
            client=client,
            field="Authorization",
        )
    if token == "":
        from upstat.auth.service import refuse

        refuse(
            client_address(request),
            "expected 'Bearer <token>'",
            settings=settings,
            client=client,
            field="Authorization",
        )
    return _admit(request, settings, client, token, "Authorization")


def _check_scope(principal: Principal, scope: str) -> Principal:
    if principal.has(scope):
        return principal
    if principal is ANONYMOUS_READER:
        raise Unauthorized("Authorization: a bearer token is required", field="Authorization")
    raise Forbidden(f"Authorization: this key lacks the '{scope}' scope", field="Authorization")


def require(
    scope: str,
    *,
    public_setting: str | None = None,
    source_ok: bool = False,
    organization_ok: bool = False,
) -> Callable[..., Principal]:
    """A dependency admitting callers holding ``scope`` (401 without a valid token, 403 without the scope,
    429 over a rate limit).

    ``public_setting`` names a boolean setting (e.g. ``public_read``) that, when true, admits anonymous
    readers too (limited per client address).

    Source keys (bound to one source) are refused with 403 unless the route says ``source_ok``: such a route
    reads or writes one source's data and checks it is the key's own (``upstat.auth.ensure_source``).
    Organization-bound keys likewise, unless the route says ``organization_ok``: such a route checks every
    source it names with ``upstat.sources.access.check_source`` (the registry says whose a source is; it
    applies the source-key rule too) and shows only the organization's sources in its listings
    (``upstat.sources.access.visible``). On a route that is public at the moment,
    a key that could not read it otherwise (a bound key, a write-only key) reads what anyone may: it is
    admitted as an anonymous reader, so it sees no more than the public.
    """

    def dependency(request: Request, settings: SettingsDep, client: RedisDep) -> Principal:
        public = bool(public_setting and getattr(settings, public_setting))
        principal = _caller(request, settings, client, public=public)
        bound = principal.source is not None or principal.organization is not None
        if public and scope == "read" and (bound or not principal.has("read")):
            return ANONYMOUS_READER
        if principal.source is not None and not source_ok:
            raise Forbidden(
                f"Authorization: a source key may use only its own source's data ('{principal.source}'); "
                "this route needs a key that is not bound to a source",
                field="Authorization",
            )
        if principal.organization is not None and not organization_ok:
            raise Forbidden(
                f"Authorization: an organization key may use only its organization's sources "
                f"('{principal.organization}'); this route needs a key that is not bound to one",
                field="Authorization",
            )
        return _check_scope(principal, scope)

    return dependency


def push_limits(request: Request, settings: SettingsDep, client: RedisDep, token: str) -> None:
    """Rate limits of a push beat (``/v1/push/{token}``): its client address and its token."""
    from upstat.auth.service import admit_push

    admit_push(token, client_address(request), settings=settings, client=client)


KEY_QUERY = Query(
    description="A source key, for devices that can only put it in the URL (OpenWISP style). Other keys "
    "are refused here: send them as `Authorization: Bearer <token>`.",
)


def require_source_key_query(scope: str = "write") -> Callable[..., Principal]:
    """Like ``require(scope)``, for the routes whose reference document passes the key as ``?key=``.

    A bearer token is used when present; otherwise ``?key=`` is accepted, and only if it is a source key
    (a key in a URL ends up in logs: an admin or general key is refused there with 401). The route must
    still check the source it writes: ``upstat.auth.ensure_source(caller, source)``. Every other route
    ignores ``?key=``, and every log line has it redacted (upstat.api.logging).
    """

    def dependency(
        request: Request,
        settings: SettingsDep,
        client: RedisDep,
        key: Annotated[str | None, KEY_QUERY] = None,
    ) -> Principal:
        if key is None or request.headers.get("authorization"):
            return _check_scope(_caller(request, settings, client, public=False), scope)
        principal = getattr(request.state, "principal", None) or _admit(request, settings, client, key, "key")
        if principal.source is None:
            raise Unauthorized("key: only a source key may be passed as ?key=", field="key")
        return _check_scope(principal, scope)

    return dependency


Reader = Annotated[Principal, Depends(require("read", public_setting="public_read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
#: Routes of one source's data: source keys too, for their own source (the route calls
#: ``upstat.auth.ensure_source``); organization keys are refused.
SourceReader = Annotated[Principal, Depends(require("read", public_setting="public_read", source_ok=True))]
SourceWriter = Annotated[Principal, Depends(require("write", source_ok=True))]
#: The same, and organization keys for their organization's sources: the route calls
#: ``upstat.sources.access.check_source(client, caller, source)`` on every source it names.
BoundReader = Annotated[
    Principal,
    Depends(require("read", public_setting="public_read", source_ok=True, organization_ok=True)),
]
BoundWriter = Annotated[Principal, Depends(require("write", source_ok=True, organization_ok=True))]
#: Routes listing many sources' data: organization keys too, shown only their organization's sources
#: (``upstat.sources.access.visible``); source keys are refused.
OrganizationReader = Annotated[
    Principal, Depends(require("read", public_setting="public_read", organization_ok=True))
]
#: Routes writing the data of sources they name, for unbound keys and organization keys (the route calls
#: ``upstat.sources.access.check_source`` on each); source keys are refused.
OrganizationWriter = Annotated[Principal, Depends(require("write", organization_ok=True))]
