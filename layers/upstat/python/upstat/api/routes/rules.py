"""``/v1/rules``: alert rules on any series. Reads need the read scope (rules name sources of any
organization, so source and organization keys are refused); changes need admin. The rules are evaluated
by the scheduled rollup run (upstat.rules.run), not here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from upstat.api.deps import Admin, EngineDep, Reader, RedisDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.rules import (
    RuleCreate,
    RuleDeleted,
    RuleDetail,
    RuleList,
    RulePublic,
    RuleUpdate,
    SeriesStateOut,
)
from upstat.clock import now_ms
from upstat.rules import model, service, store
from upstat.rules.model import Rule

router = APIRouter(prefix="/v1/rules", tags=["rules"])

RuleId = Annotated[
    str, Path(alias="id", min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$", description="Its id")
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No rule with this id"}
}
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A field is refused (the message names it)"}
}


def _doc(rule: Rule) -> dict[str, Any]:
    doc = model.to_doc(rule)
    doc.pop("windowMs")
    doc["expression"] = rule.expression()
    return doc


def public(rule: Rule) -> RulePublic:
    return RulePublic.model_validate(_doc(rule))


@router.get("", summary="Every alert rule, oldest first")
def list_all(client: RedisDep, _: Reader) -> RuleList:
    found = store.all_rules(client)
    return RuleList(count=len(found), rules=[public(r) for r in found])


@router.post("", status_code=201, summary="Create an alert rule", responses=REFUSED)
def create(body: RuleCreate, client: RedisDep, engine: EngineDep, _: Admin) -> RulePublic:
    return public(service.create(client, engine, body.body(), now=now_ms()))


@router.get("/{id}", summary="One rule, with each series' state, value and since", responses=NOT_FOUND)
def show(rule_id: RuleId, client: RedisDep, _: Reader) -> RuleDetail:
    found = service.view(client, rule_id)
    series = [
        SeriesStateOut(
            source=source,
            state=s.state,  # type: ignore[arg-type]
            value=s.value,
            since=s.since,
            evaluatedAt=s.slot,
            breaches=s.count,
        )
        for source, s in sorted(found.states.items())
    ]
    return RuleDetail.model_validate({**_doc(found.rule), "series": series})


@router.patch("/{id}", summary="Change an alert rule", responses={**NOT_FOUND, **REFUSED})
def update(rule_id: RuleId, body: RuleUpdate, client: RedisDep, engine: EngineDep, _: Admin) -> RulePublic:
    return public(service.update(client, engine, rule_id, body.body(), now=now_ms()))


@router.delete("/{id}", summary="Delete an alert rule and its states", responses=NOT_FOUND)
def delete(rule_id: RuleId, client: RedisDep, _: Admin) -> RuleDeleted:
    store.delete(client, rule_id)
    return RuleDeleted(deleted=rule_id)
