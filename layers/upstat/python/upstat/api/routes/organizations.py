"""``/v1/organizations``: whose sources are whose. Reads need the read scope (an organization key sees only
its own organization); writes need admin. An organization is addressed by its id or its slug."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from upstat.api.deps import Admin, OrganizationReader, RedisDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.sources import (
    OrganizationCreate,
    OrganizationDeleted,
    OrganizationList,
    OrganizationPublic,
    OrganizationUpdate,
)
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.errors import Forbidden, NotFound
from upstat.sources import models
from upstat.sources import store as registry
from upstat.sources.models import Organization

router = APIRouter(prefix="/v1/organizations", tags=["sources"])

OrgPath = Annotated[
    str,
    Path(alias="id", min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$", description="Its id or slug"),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No organization with this id or slug"}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "A key bound to another organization (or to a source)"}
}


def public(org: Organization) -> OrganizationPublic:
    return OrganizationPublic(
        id=org.id, slug=org.slug, name=org.name, createdAt=org.created_at, updatedAt=org.updated_at
    )


def _own(caller: Principal, ref: str, org: Organization | None) -> None:
    """An organization key reads only its own organization: 403 before 404, so it learns nothing of others."""
    if caller.organization is not None and (org is None or org.slug != caller.organization):
        raise Forbidden(f"id: this key may use only organization '{caller.organization}'", field="id")
    if org is None:
        raise NotFound(f"id: no organization '{ref}'", field="id")


@router.get("", summary="Every organization (an organization key: its own)")
def list_all(
    client: RedisDep,
    caller: OrganizationReader,
    slug: Annotated[str | None, Query(pattern=models.SLUG_PATTERN, description="Only this one")] = None,
) -> OrganizationList:
    if caller.organization is not None:
        slug = caller.organization if slug in (None, caller.organization) else None
        found = registry.list_organizations(client, slug=slug) if slug is not None else []
    else:
        found = registry.list_organizations(client, slug=slug)
    return OrganizationList(count=len(found), organizations=[public(o) for o in found])


@router.post(
    "",
    status_code=201,
    summary="Create an organization",
    responses={409: {"model": ErrorBody, "description": "The slug is taken"}},
)
def create(body: OrganizationCreate, client: RedisDep, _: Admin) -> OrganizationPublic:
    return public(registry.create_organization(client, slug=body.slug, name=body.name, now_ms=now_ms()))


@router.get("/{id}", summary="One organization", responses={**NOT_FOUND, **FORBIDDEN})
def show(ref: OrgPath, client: RedisDep, caller: OrganizationReader) -> OrganizationPublic:
    org = registry.get_organization(client, ref)
    _own(caller, ref, org)
    assert org is not None
    return public(org)


@router.patch(
    "/{id}",
    summary="Rename an organization (its slug never changes)",
    responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "It kept changing: try again"}},
)
def update(ref: OrgPath, body: OrganizationUpdate, client: RedisDep, _: Admin) -> OrganizationPublic:
    return public(registry.update_organization(client, ref, name=body.name, now_ms=now_ms()))


@router.delete(
    "/{id}",
    summary="Delete an organization that has no sources",
    responses={
        **NOT_FOUND,
        409: {"model": ErrorBody, "description": "It still has sources (or kept changing)"},
    },
)
def delete(ref: OrgPath, client: RedisDep, _: Admin) -> OrganizationDeleted:
    return OrganizationDeleted(deleted=registry.delete_organization(client, ref).id)
