"""Service models: what a client sends (``ServiceIn``, ``ServiceUpdate``) and what is stored (``Service``).

Field names on the wire are camelCase (the OpenUptimes document's ``expectedStatus``, ``timeout`` in ms ...);
Python code uses snake_case. Both are accepted on input. Values are never coerced: a boolean is not a
number, "10000" is not a timeout, NaN and infinities are refused. Errors are pydantic ValidationErrors
whose ``loc`` names the field by its wire name, or (for rules across fields, such as a url scheme that
does not fit the kind) :class:`upstat.errors.InvalidInput` with ``field`` set; the API layer maps both.

Private or loopback *targets* are not refused here: the SSRF guard refuses them at check time, on the address
actually connected to (a name may resolve differently later, and UPSTAT_ALLOWED_TARGETS may change). Only
the URL's shape is checked: scheme per kind, a host, a valid port, no whitespace.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from upstat.errors import InvalidInput, invalid_from_errors
from upstat.uptime.checks import DNS_RECORD_TYPES, STANDARD_METHODS, CheckSpec, parse_expected_status
from upstat.wire import SegmentName, StrictBool, StrictStr, Text, WholeInt, name_type, pattern

ModelT = TypeVar("ModelT", bound=BaseModel)
ServiceKind = Literal["http", "tcp", "dns", "tls", "push"]

SInt = WholeInt
SBool = StrictBool
SStr = StrictStr

MIN_INTERVAL_S = 30
MAX_INTERVAL_S = 3600
DEFAULT_INTERVAL_S = 60
DEFAULT_TIMEOUT_MS = 10_000
#: Days before a certificate's expiry when the "certificate expiring" alert fires (0 turns it off).
DEFAULT_CERT_WARNING_DAYS = 14
#: Seconds a push monitor may be late (after its interval) before it counts as down.
DEFAULT_PUSH_GRACE_S = 60

#: An example URL of each kind of check, for error messages and the README.
URL_FORMS = {
    "http": "https://example.com/health",
    "tls": "https://example.com",
    "tcp": "tcp://db.example.com:5432",
    "dns": "dns://example.com",
}

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,62})(?:\.[A-Za-z0-9_\-]{1,63})*\.?$")

_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel, allow_inf_nan=False)


class Confirmations(BaseModel):
    """Consecutive results needed before the status changes: ``down`` failures, ``up`` successes."""

    model_config = _CONFIG

    down: SInt = Field(1, ge=1, le=20)
    up: SInt = Field(1, ge=1, le=20)


def normalize_expected_status(value: Any) -> int | str:
    """``200`` -> 200; ``"200-299"``, ``[200, "300-302"]`` -> ``"200-299"``, ``"200,300-302"``.

    A single code stays an int (as the OpenUptimes document shows it); anything else becomes the canonical
    range text. Raises ValueError (a pydantic error naming ``expectedStatus``) on anything else.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("expectedStatus must be a status code, a list of codes or ranges like '200-299'")
    value = _whole(value)  # 204.0 is the integer 204 in JSON Schema, as the document says
    if isinstance(value, list):
        value = [_whole(v) for v in value]
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and value and all(type(v) in (int, str) for v in value):
        text = ",".join(str(v) for v in value)
    else:
        raise ValueError("expectedStatus must be a status code, a list of codes or ranges like '200-299'")
    try:
        ranges = parse_expected_status(text)
    except InvalidInput as exc:
        raise ValueError(exc.message) from exc
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return ranges[0][0]
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: What a hidden value reads as in a response. Sent back unchanged in an update, it keeps the stored value.
MASK = "********"
_SECRET_PARAM = re.compile(r"(?i)key|token|secret|pass|pwd|auth|sig|credential|session|code")


def mask_url(url: str) -> str:
    """``url`` with the values of query parameters that look like credentials hidden
    (``?api_key=********``); everything else, the status page needs."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = []
    for pair in parts.query.split("&"):
        name, eq, _value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if eq and _SECRET_PARAM.search(name) else pair)
    return urlunsplit(parts._replace(query="&".join(pairs)))


def mask_webhook(url: str) -> str:
    """A webhook URL with its path and query hidden: they carry the receiver's token (Slack, Discord ...)."""
    parts = urlsplit(url)
    if parts.path in ("", "/") and not parts.query:
        return url
    return f"{parts.scheme}://{parts.netloc}/{MASK}"


def masked_fields(fields: ServiceFields) -> dict[str, Any]:
    """The secret-bearing fields of a service as non-admin callers see them (wire names)."""
    return {
        "url": mask_url(fields.url),
        "headers": dict.fromkeys(fields.headers, MASK),
        "body": None if fields.body is None else MASK,
        "webhooks": [mask_webhook(w) for w in fields.webhooks],
    }


def unmask(changes: dict[str, Any], current: ServiceFields) -> dict[str, Any]:
    """Changes with hidden values sent back as shown (``********``) replaced by the stored ones, so a
    service read, edited and sent back keeps its secrets. A hidden value with nothing stored behind it is
    refused naming the field."""
    out = dict(changes)
    url = out.get("url")
    if isinstance(url, str) and MASK in url:
        out["url"] = _unmask_query(url, current.url)
    if out.get("body") == MASK:
        if current.body is None:
            raise InvalidInput("body: '********' stands for a hidden body, and none is stored", field="body")
        out["body"] = current.body
    headers = out.get("headers")
    if isinstance(headers, dict):
        stored = {k.lower(): v for k, v in current.headers.items()}
        for name, value in list(headers.items()):
            if value == MASK:
                if not isinstance(name, str) or name.lower() not in stored:
                    raise InvalidInput(
                        f"headers.{name}: '********' stands for a hidden value, and no such header is "
                        "stored; send the value",
                        field=f"headers.{name}",
                    )
                headers[name] = stored[name.lower()]
        out["headers"] = headers
    hooks = out.get("webhooks")
    if isinstance(hooks, list):
        out["webhooks"] = _unmask_webhooks(hooks, current.webhooks)
    return out


def _unmask_query(url: str, stored: str) -> str:
    """``url`` with each query value sent as ``********`` replaced by the stored URL's value of that
    parameter (so changing another parameter keeps the hidden one); 400 when nothing is stored behind it."""
    parts = urlsplit(url)
    kept: dict[str, list[str]] = {}
    for pair in urlsplit(stored).query.split("&"):
        name, _, value = pair.partition("=")
        kept.setdefault(name, []).append(value)
    pairs = []
    for pair in parts.query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and value == MASK:
            if not kept.get(name):
                raise InvalidInput(
                    f"url: '********' stands for a hidden value of {name}, and the stored url has none; "
                    "send it",
                    field="url",
                )
            value = kept[name].pop(0)
        pairs.append(f"{name}{eq}{value}")
    return urlunsplit(parts._replace(query="&".join(pairs)))


def _unmask_webhooks(sent: list[Any], stored: list[str]) -> list[Any]:
    """Webhooks with hidden ones (``https://host/********``) replaced by the stored URLs they stand for:
    the stored webhook at the same position when its hidden form matches, else the only stored one with
    that hidden form. Two stored webhooks on one host are told apart by position, never mixed up."""
    out = list(sent)
    for i, hook in enumerate(sent):
        if not isinstance(hook, str) or MASK not in hook:
            continue
        if i < len(stored) and mask_webhook(stored[i]) == hook:
            out[i] = stored[i]
            continue
        matches = [w for w in stored if mask_webhook(w) == hook]
        if len(matches) != 1:
            why = "matches no stored one" if not matches else "matches several stored ones"
            raise InvalidInput(
                f"webhooks[{i}]: a hidden webhook URL that {why}; send the full URL", field=f"webhooks[{i}]"
            )
        out[i] = matches[0]
    return out


def resolve_aliases(data: Any) -> Any:
    """The other spellings a service accepts, as its own fields: ``invert`` for ``keywordAbsent`` (never
    both), ``failuresBeforeDown``/``successesBeforeUp`` for ``confirmations``. One rule for a new service
    and for a change (a change's confirmations are then merged into the stored ones)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "invert" in data:
        if "keywordAbsent" in data or "keyword_absent" in data:
            raise ValueError("give either invert or keywordAbsent, not both")
        data["keywordAbsent"] = data.pop("invert")
    down = data.pop("failuresBeforeDown", None)
    up = data.pop("successesBeforeUp", None)
    if down is not None or up is not None:
        base = data.get("confirmations")
        conf = dict(base) if isinstance(base, dict) else {}
        if down is not None:
            conf["down"] = down
        if up is not None:
            conf["up"] = up
        data["confirmations"] = conf
    return data


def _upper_choice(value: Any, allowed: frozenset[str], field: str) -> Any:
    """A text value upper-cased and checked against ``allowed``; anything else is left to the field's type
    (so a non-string gets pydantic's own error naming the field)."""
    if not isinstance(value, str):
        return value
    upper = value.strip().upper()
    if upper not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(sorted(allowed))}")
    return upper


def _check_host(host: str | None, what: str) -> str:
    if not host:
        raise ValueError(f"{what} needs a host")
    if host.startswith("[") or ":" in host:  # IPv6 literal
        return host
    if not _HOSTNAME.match(host):
        raise ValueError(f"{what} host {host!r} is not a valid host name or address")
    return host


#: Each probed kind's URL schemes and the form of its URL (examples in URL_FORMS; README "The URL of each
#: kind of check"): errors quote them, so a URL of the wrong form is answered with the form expected.
URL_SCHEMES = {"http": ("http", "https"), "tls": ("https",), "tcp": ("tcp",), "dns": ("dns",)}
URL_SHAPES = {
    "http": "http(s)://host[:port][/path]",
    "tls": "https://host[:port]",
    "tcp": "tcp://host:port",
    "dns": "dns://name",
}


def _scheme_error(url: str, kind: str, what: str) -> str:
    """Which form was expected, and the likely intended URL: ``127.0.0.1:8102`` for a tcp check is
    ``tcp://127.0.0.1:8102``; ``tcp://...`` for an http check is the form of a tcp check."""
    form, example = URL_SHAPES[kind], URL_FORMS[kind]
    subject = f"{what} of {'an' if kind == 'http' else 'a'} {kind} check" if what == "url" else what
    text = f"{subject} must have the form {form}, e.g. {example}"
    if "://" not in url:
        return f"{text}; did you mean {URL_SCHEMES[kind][0]}://{url}?"
    scheme = urlsplit(url).scheme.lower()
    fits = [k for k, schemes in URL_SCHEMES.items() if scheme in schemes]
    if fits and what == "url":
        text += f"; {scheme}:// is the form of {' and '.join(fits)} checks (set kind)"
    return text


def check_url(url: str, kind: str, *, what: str = "url") -> str:
    """The URL's shape for a check of ``kind``; raises ValueError with a message naming ``what``."""
    if not url:
        raise ValueError(f"{what} is required for a {kind} check (e.g. {URL_FORMS[kind]})")
    if len(url) > 2048 or re.search(r"[\s\x00-\x1f\x7f]", url):
        raise ValueError(f"{what} must be a URL of at most 2048 characters, without spaces")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL": a bracket that opens no address
        raise ValueError(f"{what} host is not a valid host name or address") from exc
    if parts.scheme.lower() not in URL_SCHEMES[kind]:
        raise ValueError(_scheme_error(url, kind, what))
    if "@" in parts.netloc or "\\" in url:
        raise ValueError(f"{what} must not hold credentials or backslashes")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{what} has an invalid port") from exc
    _check_host(parts.hostname, what)
    if kind == "tcp" and port is None:
        raise ValueError(f"{what} of a tcp check needs a port: tcp://host:port")
    if kind in ("tcp", "dns") and parts.path not in ("", "/"):
        raise ValueError(f"{what} of a {kind} check takes no path")
    return url


#: Loose shapes for the document (scheme, then a host without credentials or backslashes); the exact rules
#: (the scheme of each kind, a valid host name or address, a valid port) are in check_url and its messages.
_HOST_PART = r"[^\s\x00-\x1f\x7f-\x9f/@\\?#]+"
_REST = r"([/?#][^\s\x00-\x1f\x7f-\x9f\\]*)?"
URL_PATTERN = rf"^$|^([Hh][Tt][Tt][Pp][Ss]?|[Tt][Cc][Pp]|[Dd][Nn][Ss])://{_HOST_PART}{_REST}$"
WEBHOOK_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://{_HOST_PART}{_REST}$"
CHANNEL_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_CODE = "[1-5][0-9]{2}"
STATUS_PATTERN = rf"^\s*{_CODE}\s*(-\s*{_CODE}\s*)?(,\s*{_CODE}\s*(-\s*{_CODE}\s*)?)*$"
_STATUS_ITEM = {
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": STATUS_PATTERN},
    ]
}
ExpectedStatus = Annotated[
    Any,  # a code, a range text or a list of either; normalized to int | str by the field's validator
    WithJsonSchema(
        {
            "anyOf": [*_STATUS_ITEM["anyOf"], {"type": "array", "minItems": 1, "items": _STATUS_ITEM}],
            "description": "A code (200), ranges ('200-299,301', low to high) or a list of either",
            "default": 200,
        }
    ),
]
Method = Annotated[
    str,
    Strict(),
    WithJsonSchema(
        {"enum": sorted(STANDARD_METHODS), "type": "string", "description": "any case", "default": "GET"}
    ),
]
RecordType = Annotated[
    str, Strict(), WithJsonSchema({"enum": sorted(DNS_RECORD_TYPES), "type": "string", "default": "A"})
]
HeaderName = Annotated[str, pattern(_HEADER_NAME.pattern)]
HeaderValue = Annotated[str, Strict(), Field(max_length=4096), pattern(r"^[^\x00-\x08\x0a-\x1f\x7f]*$")]


class ServiceFields(BaseModel):
    """The fields of a service, with their validation (shared by ServiceIn and Service)."""

    model_config = _CONFIG

    # --- the six OpenUptimes fields ---
    name: SegmentName
    url: Annotated[SStr, pattern(URL_PATTERN)] = Field(
        "",
        max_length=2048,
        description="The target, of the kind's form (README: the URL of each kind): a valid host name or "
        "address (labels of at most 63 characters, 253 in all) and port, no credentials. An address literal "
        "the SSRF guard refuses, or localhost, is refused (400: target refused, naming it)",
    )
    description: Text = Field("", max_length=1000)
    expected_status: ExpectedStatus = 200
    method: Method = "GET"
    timeout: SInt = Field(
        DEFAULT_TIMEOUT_MS, ge=100, le=60_000, description="milliseconds, within the interval"
    )
    # --- upstat's own ---
    interval: SInt = Field(DEFAULT_INTERVAL_S, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S, description="seconds")
    kind: ServiceKind = "http"
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=50)
    body: SStr | None = Field(None, max_length=65_536)
    keyword: Text | None = Field(None, min_length=1, max_length=1000, description="http checks only")
    keyword_absent: SBool = False
    follow_redirects: SBool = True
    degraded_ms: SInt | None = Field(None, ge=1, le=60_000, description="shorter than the timeout")
    confirmations: Confirmations = Field(default_factory=Confirmations)
    cert_warning_days: SInt = Field(DEFAULT_CERT_WARNING_DAYS, ge=0, le=365)
    group: name_type(100) | None = None  # type: ignore[valid-type]
    tags: list[name_type(50)] = Field(default_factory=list, max_length=20)  # type: ignore[valid-type]
    visible: SBool = True
    paused: SBool = False
    dns_expected: list[Annotated[Text, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=20
    )
    dns_record_type: RecordType = "A"
    grace: SInt = Field(DEFAULT_PUSH_GRACE_S, ge=0, le=86_400, description="push monitors: seconds late")
    webhooks: list[Annotated[SStr, Field(max_length=2048), pattern(WEBHOOK_PATTERN)]] = Field(
        default_factory=list,
        max_length=10,
        description="http(s) URLs each alert of this service is POSTed to: a valid host name or address "
        "(labels of at most 63 characters, 253 in all) and port, no credentials. An address literal the SSRF "
        "guard refuses (loopback, private, unspecified such as 0 ...), or localhost, is refused (400: target "
        "refused, naming it)",
    )

    channels: list[Annotated[SStr, Field(max_length=64), pattern(CHANNEL_ID_PATTERN)]] = Field(
        default_factory=list,
        max_length=20,
        description="Ids of the notification channels (/v1/channels) its alerts go to; empty: the channels "
        "marked default. Each must exist (400 naming it)",
    )

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        return resolve_aliases(data)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for cid in value:
            if not re.fullmatch(CHANNEL_ID_PATTERN[1:-1], cid):
                raise ValueError(f"{cid!r} is not a channel id (see GET /v1/channels)")
        if len(set(value)) != len(value):
            raise ValueError("each channel may be named once")
        return value

    @field_validator("expected_status", mode="before")
    @classmethod
    def _expected(cls, value: Any) -> int | str:
        return normalize_expected_status(value)

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return _upper_choice(value, STANDARD_METHODS, "method")

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            if _CONTROL.search(text.replace("\t", "")) or len(text) > 4096:
                raise ValueError(f"header {name!r}: value must be one line of at most 4096 characters")
        return value

    @field_validator("dns_record_type", mode="before")
    @classmethod
    def _record_type(cls, value: Any) -> Any:
        return _upper_choice(value, DNS_RECORD_TYPES, "dnsRecordType")

    @field_validator("webhooks")
    @classmethod
    def _webhooks(cls, value: list[str]) -> list[str]:
        for url in value:
            check_url(url, "http", what="webhook URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceFields:
        """Cross-field rules; raised as InvalidInput naming the field (pydantic lets it through as is)."""
        if self.kind == "push":
            if self.url:
                raise InvalidInput(
                    "url: a push monitor has no url (it is called at its push URL)", field="url"
                )
        else:
            try:
                check_url(self.url, self.kind)
            except ValueError as exc:
                raise InvalidInput(str(exc), field="url") from exc
        if self.timeout > self.interval * 1000:
            raise InvalidInput("timeout: must not be longer than the interval", field="timeout")
        if self.degraded_ms is not None and self.degraded_ms >= self.timeout:
            raise InvalidInput("degradedMs: must be shorter than the timeout", field="degradedMs")
        if self.keyword is not None and self.kind != "http":
            raise InvalidInput("keyword: only http checks read the body", field="keyword")
        return self

    # --- views ---
    @property
    def status_ranges(self) -> tuple[tuple[int, int], ...]:
        """The expected statuses as inclusive (low, high) ranges."""
        return parse_expected_status(str(self.expected_status))


class ServiceIn(ServiceFields):
    """A new service as a client sends it (POST). Only ``name`` and (except for push) ``url`` are required."""


class _Change(BaseModel):
    """A partial change (PATCH/PUT): only the fields present change; ``null`` clears an optional field.

    Each field has the type and bounds of the service's (so the document states them and a wrong type is
    refused naming the field); the result is validated as a whole (:meth:`apply`), so cross-field rules
    (timeout within the interval, url scheme per kind) hold after every update.
    """

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        return resolve_aliases(data)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by wire name."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def apply(self, current: ServiceFields) -> dict[str, Any]:
        """The fields of ``current`` with these changes, as wire-named data (validate it with ServiceIn).
        Hidden values sent back as shown keep the stored ones (:func:`unmask`)."""
        merged = current.model_dump(by_alias=True, mode="json", include=set(ServiceFields.model_fields))
        for key, value in unmask(self.changes(), current).items():
            if key == "confirmations" and isinstance(value, dict):
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
        return merged


class ConfirmationsUpdate(BaseModel):
    """The confirmations to change (the other keeps its stored value)."""

    model_config = _CONFIG

    down: SInt = Field(None, ge=1, le=20)  # type: ignore[assignment]
    up: SInt = Field(None, ge=1, le=20)  # type: ignore[assignment]


def _optional(name: str, info: FieldInfo) -> tuple[Any, FieldInfo]:
    """A service field as a change: the same type and bounds, absent by default (null only where the
    service's own field takes null)."""
    changed = copy.copy(info)
    changed.default = None
    changed.default_factory = None
    return (ConfirmationsUpdate if name == "confirmations" else info.annotation), changed


if TYPE_CHECKING:

    class ServiceUpdate(_Change):
        pass

else:
    ServiceUpdate = create_model(
        "ServiceUpdate",
        __base__=_Change,
        __doc__=_Change.__doc__,
        **{name: _optional(name, info) for name, info in ServiceFields.model_fields.items()},
    )


class Service(ServiceFields):
    """A stored service. ``id`` is stable (history is keyed by it, so a rename keeps history). Frozen: use
    ``model_copy(update=...)`` or the store's update."""

    model_config = ConfigDict(**_CONFIG, frozen=True)

    id: SStr
    created_at: SInt
    updated_at: SInt
    version: SInt = 1
    push_token: SStr | None = None

    def public(self, *, include_secret: bool = False, reveal: bool = False) -> dict[str, Any]:
        """Every field by wire name. The push token only with ``include_secret`` (it is the credential of
        the monitor's URL); the target's credentials (header values, body, secret-looking query values,
        webhook paths) hidden unless ``reveal`` (admins who ask)."""
        data = self.model_dump(by_alias=True, mode="json")
        if not include_secret:
            data.pop("pushToken", None)
        if not reveal:
            data.update(masked_fields(self))
        return data

    def spec(self, *, timeout_cap_ms: int | None = None) -> CheckSpec:
        """The prober's CheckSpec of this service (push monitors are not probed)."""
        if self.kind == "push":
            raise ValueError("push monitors are not probed")
        timeout = self.timeout if timeout_cap_ms is None else max(100, min(self.timeout, timeout_cap_ms))
        return CheckSpec(
            service_id=self.id,
            url=self.url,
            kind=self.kind,
            method=self.method,
            headers=tuple(self.headers.items()),
            body=self.body,
            timeout_ms=timeout,
            expected_status=self.status_ranges,
            keyword=self.keyword,
            keyword_absent=self.keyword_absent,
            follow_redirects=self.follow_redirects,
            degraded_ms=self.degraded_ms,
            dns_expected=tuple(self.dns_expected),
            dns_record_type=self.dns_record_type,
        )

    @property
    def watches_certificate(self) -> bool:
        """True when checks report certificate days (https http checks and tls checks)."""
        return self.kind == "tls" or (self.kind == "http" and self.url.lower().startswith("https://"))


def validated(model: type[ModelT], data: Any) -> ModelT:
    """``model`` validated from ``data``; bad input raises InvalidInput (400) naming the field by its wire
    name, never pydantic's ValidationError (which the API would answer with a 500)."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_errors(exc.errors()) from None
