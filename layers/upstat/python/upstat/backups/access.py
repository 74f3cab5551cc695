"""Which backup servers a key may use: the sources registry's one rule (upstat.sources.access) applied to
servers, for the duplistatus routes and upstat's own /v1/backups alike.

A backup server is the registry source of its machine-id; its jobs are its own. So an organization-bound
key uses only the servers registered in its organization (and their jobs), a source key only its own
machine, any other key every server.
"""

from __future__ import annotations

from typing import Any

from upstat.auth import Principal
from upstat.backups.store import BackupStore, Server
from upstat.errors import Forbidden
from upstat.sources import access


def server_for(
    client: Any, store: BackupStore, principal: Principal, ref: str, *, field: str
) -> Server | None:
    """The server ``ref`` names (a number or a machine-id), None when there is none; Forbidden (403, naming
    ``field``) when the key may not use it. A server the key may not use is refused alike whether it exists
    or not, so a bound key learns nothing of other organizations' servers."""
    found = store.lookup(ref)
    try:
        access.check_source(client, principal, found.id if found is not None else ref, field=field)
    except Forbidden as exc:  # named as asked: a number must not reveal another organization's machine-id
        raise Forbidden(f"{field}: this key may not use backup server '{ref}'", field=field) from exc
    return found


def servers_for(client: Any, store: BackupStore, principal: Principal) -> list[Server]:
    """Every server the key may use, by number."""
    servers = store.servers()
    shown = set(access.visible(client, principal, [s.id for s in servers]))
    return [s for s in servers if s.id in shown]
