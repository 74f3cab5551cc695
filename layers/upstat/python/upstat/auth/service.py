"""Token checks. The bootstrap admin token comes from UPSTAT_ADMIN_TOKEN or an SSM SecureString."""

from __future__ import annotations

import hmac
from typing import Any

from upstat.auth import Principal
from upstat.config import Settings
from upstat.errors import Unauthorized

ADMIN_ENV = Principal("admin-bootstrap", frozenset({"admin"}))


def bootstrap_admin_token(settings: Settings) -> str | None:
    """The admin token accepted as is: the environment's, else the SSM parameter's (cached)."""
    if settings.admin_token:
        return settings.admin_token
    if settings.admin_token_ssm_parameter:
        from upstat.aws import get_ssm_parameter

        return get_ssm_parameter(settings.admin_token_ssm_parameter)
    return None


def authenticate(token: str, *, settings: Settings, client: Any) -> Principal:
    """The principal a bearer token stands for; Unauthorized if it is unknown."""
    admin = bootstrap_admin_token(settings)
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return ADMIN_ENV
    raise Unauthorized("Authorization: unknown or revoked token", field="Authorization")
