"""Liveness and the service root."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

import upstat
from upstat.api.deps import RedisDep

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]})
    status: str
    version: str


@router.get("/healthz", summary="Liveness: the API answers and Redis answers PING")
def healthz(client: RedisDep) -> Health:
    client.ping()
    return Health(status="ok", version=upstat.__version__)
