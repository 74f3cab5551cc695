"""Lambda SnapStart for the API function: secrets read before the snapshot, and again after each restore.

With SnapStart, a cold start restores a snapshot of the process taken after the handler module's import.
Whatever the import did (import boto3, create the SSM client, read the parameters) is in the snapshot; what
it left for later is redone on the first request after *every* restore. So the handler calls
:func:`prepare` at import: the SSM client is created and the parameters are read then, and a runtime hook
reads them again after each restore, since a snapshot may be days older than a rotated value.

``snapshot_restore_py`` is part of the Lambda Python runtime (and on PyPI for tests); elsewhere there is no
hook to register and :func:`prepare` only reads the parameters.
"""

from __future__ import annotations

import logging
from typing import Any

from upstat import aws
from upstat.config import Settings, get_settings

log = logging.getLogger("upstat.snapstart")

_registered = False


def parameter_names(settings: Settings) -> list[str]:
    """The SSM parameters the process reads: the Redis URL, the admin token, the webhook secret."""
    names = (
        settings.redis_url_ssm_parameter if not settings.redis_url else None,
        settings.admin_token_ssm_parameter if not settings.admin_token else None,
        settings.webhook_secret_ssm_parameter if not settings.webhook_secret else None,
    )
    return [name for name in names if name]


def read_parameters(settings: Settings | None = None, *, when: str) -> dict[str, str | None]:
    """Read every configured parameter now; a failure is logged (the request that needs the value reads
    it again and answers 503 if it still fails), never raised: an import must not fail on it."""
    names = parameter_names(settings or get_settings())
    if not names:
        return {}
    outcome = aws.refresh_parameters(names)
    failed = {name: error for name, error in outcome.items() if error}
    if failed:
        log.warning("%s: %d SSM parameters not read", when, len(failed), extra={"failed": failed})
    else:
        log.info("%s: %d SSM parameters read", when, len(outcome), extra={"parameters": sorted(outcome)})
    return outcome


def after_restore() -> None:
    """The runtime hook: values cached in the snapshot may be stale; read them again."""
    read_parameters(when="after restore")


def register_hook() -> bool:
    """Register :func:`after_restore` with the Lambda runtime (once); False where there is no such
    runtime."""
    global _registered
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    if not _registered:
        register_after_restore(after_restore)
        _registered = True
    return True


def prepare(settings: Settings | None = None) -> dict[str, Any]:
    """At import of the API handler: read the parameters (into the snapshot) and register the hook."""
    outcome = read_parameters(settings, when="init")
    return {"parameters": outcome, "hook": register_hook()}
