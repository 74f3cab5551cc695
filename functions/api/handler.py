"""Lambda entry point of the HTTP API: Mangum over the FastAPI app.

Serves API Gateway HTTP API events (payload 2.0, what serverless.yml deploys) and REST API events (1.0).
The app and the adapter are built at import time, once per container, so warm invocations reuse them; the SSM
parameters are read then too (upstat.snapstart: before the SnapStart snapshot, again after each restore).

The path handed to the app is the one the API's route matched, rebuilt from the route template and its
path parameters (``/{proxy+}`` + ``proxy=status/x`` -> ``/status/x``). That drops whatever API Gateway put in
front of it: a stage name (``/prod/...`` on REST APIs reached through a stage, HTTP API named stages) or a
custom domain's base path mapping, with nothing to configure per stage.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from mangum import Mangum

from upstat import snapstart
from upstat.api.app import get_app

_PARAM = re.compile(r"\{([^{}+]+)\+?\}")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

_adapter = Mangum(get_app(), lifespan="off")
# SnapStart: the SSM client and the parameters' values go into the snapshot; a runtime hook reads them
# again after each restore (upstat.snapstart).
snapstart.prepare()


def route_path(event: dict[str, Any]) -> str | None:
    """The request path relative to the API root, or None when the event names no route template."""
    if "httpMethod" in event:  # REST API, payload 1.0
        template = event.get("resource") or ""
    else:  # HTTP API, payload 2.0: routeKey is "ANY /{proxy+}", or "$default"
        template = str(event.get("routeKey", "")).partition(" ")[2]
    if not template.startswith("/"):
        return None
    params = event.get("pathParameters") or {}
    try:
        # Mangum unquotes the path it is given; path parameters arrive decoded, so quote them back.
        return _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=_PATH_SAFE), template)
    except KeyError:
        return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = route_path(event)
    if path is not None:
        event = {**event, ("path" if "httpMethod" in event else "rawPath"): path}
    return _adapter(event, context)
