"""Channel secrets sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key is ``UPSTAT_CHANNEL_KEY`` (a Fernet key: ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``), or the SecureString SSM parameter named by
``UPSTAT_CHANNEL_KEY_SSM_PARAMETER`` (the deployed stack's). Redis then holds only ciphertext: a dump or a
replica of the store gives no webhook URL or token. Without a key, channels holding secrets cannot be
stored (409 naming the setting), rather than being stored in the clear.
"""

from __future__ import annotations

import json
from typing import Any

from upstat.config import Settings
from upstat.errors import Conflict, StoreUnavailable

NO_KEY = (
    "channels keep their secrets encrypted, and no key is set: set UPSTAT_CHANNEL_KEY (a Fernet key) or "
    "UPSTAT_CHANNEL_KEY_SSM_PARAMETER"
)


def _fernet(settings: Settings) -> Any:
    from cryptography.fernet import Fernet

    key = settings.channel_key
    if not key and settings.channel_key_ssm_parameter:
        from upstat.aws import get_ssm_parameter

        name = settings.channel_key_ssm_parameter
        try:
            key = get_ssm_parameter(name)
        except Exception as exc:  # botocore raises many types; the caller gets one typed error
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ParameterNotFound":
                raise Conflict(
                    f"channels keep their secrets encrypted, and the key's SSM parameter {name} does not "
                    "exist: create it as a SecureString holding a Fernet key",
                    field="config",
                ) from exc
            raise StoreUnavailable(
                f"the channel key parameter could not be read ({type(exc).__name__})"
            ) from exc
    if not key:
        raise Conflict(NO_KEY, field="config")
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise Conflict(
            "UPSTAT_CHANNEL_KEY is not a Fernet key (32 url-safe base64-encoded bytes)", field="config"
        ) from exc


def seal(secrets: dict[str, Any], settings: Settings) -> str:
    """The secrets as one Fernet token ("" when there are none: nothing to protect, no key needed)."""
    if not secrets:
        return ""
    return str(_fernet(settings).encrypt(json.dumps(secrets).encode()).decode())


def unseal(token: str, settings: Settings) -> dict[str, Any]:
    """The secrets of :func:`seal`'s token. A token the key cannot open (the key was changed) raises
    StoreUnavailable: the channel must be saved again with its secrets."""
    if not token:
        return {}
    from cryptography.fernet import InvalidToken

    try:
        data = json.loads(_fernet(settings).decrypt(token.encode()))
    except InvalidToken as exc:
        raise StoreUnavailable(
            "a channel's secrets do not open with the channel key (was it changed?): save the channel again"
        ) from exc
    return dict(data)
