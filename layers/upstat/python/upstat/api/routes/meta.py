"""Liveness and the service root."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

import upstat
from upstat.api.deps import RedisDep

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness: the API answers and Redis answers PING")
def healthz(client: RedisDep) -> dict[str, Any]:
    client.ping()
    return {"status": "ok", "version": upstat.__version__}
