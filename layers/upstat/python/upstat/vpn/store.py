"""The VPN domain's storage: each server's last known state, its clients, the status files a pull already
took, and the certificates whose expiry is watched. The only module of ``upstat.vpn`` that sends Redis
commands (series go through the engine). Which servers exist is the sources registry's to say
(``upstat.vpn.servers``), not this store's.

Keys (one prefix, one hash tag per server so its script touches one cluster slot):

- ``vpn:{vpn:<id>}:server``: hash: ``name``, ``version`` (compare-and-set counter), ``time`` (the newest
  file's own time, ms), ``received``/``sent`` (the server's running byte totals), ``connected``, ``form``.
- ``vpn:{vpn:<id>}:clients``: hash, common name -> the client's last sight as JSON.
- ``vpn:{vpn:<id>}:files``: sorted set of file times a scheduled pull has taken (claims, scored by time).
- ``vpn:certificates``: hash, file name -> the certificate's facts as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from upstat.store.keyspace import name_id
from upstat.store.scripts import Scripts


@dataclass(frozen=True, slots=True)
class ClientState:
    """A client's last sight: its session's start, counters and rates then, and its running totals."""

    since: int | None
    received: int
    sent: int
    time: int  # the file's time (ms) of this sight
    first: int  # the file time the client was first seen
    received_rate: float = 0.0  # bytes per second, over the last two sights of the session
    sent_rate: float = 0.0
    received_total: float = 0.0  # everything counted since upstat first saw the client
    sent_total: float = 0.0
    real_address: str = ""
    virtual_address: str = ""


@dataclass
class ServerState:
    """A server as last committed (``version`` None: never seen)."""

    name: str
    version: int | None = None
    time: int | None = None
    received: float = 0.0
    sent: float = 0.0
    connected: int = 0
    form: str = ""
    clients: dict[str, ClientState] = field(default_factory=dict)

    def is_active(self, client: ClientState) -> bool:
        """Listed in the newest file."""
        return self.time is not None and client.time == self.time


@dataclass(frozen=True, slots=True)
class Certificate:
    """What is kept of an uploaded certificate (never the PEM itself)."""

    file: str
    subject: str
    issuer: str
    serial: str
    not_before: int
    not_after: int
    uploaded: int


class VpnStore:
    """VPN state in one Redis, under the settings' key prefix."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self.scripts = Scripts(client)

    # --- key names ---
    def _server_key(self, name: str) -> str:
        return f"{self.prefix}vpn:{{vpn:{name_id('vpn-server', name)}}}:server"

    def _clients_key(self, name: str) -> str:
        return f"{self.prefix}vpn:{{vpn:{name_id('vpn-server', name)}}}:clients"

    def _files_key(self, name: str) -> str:
        return f"{self.prefix}vpn:{{vpn:{name_id('vpn-server', name)}}}:files"

    def _certificates_key(self) -> str:
        return f"{self.prefix}vpn:certificates"

    # --- servers and clients ---
    def load(self, name: str) -> ServerState:
        return self.load_many([name])[0]

    def load_many(self, names: Sequence[str]) -> list[ServerState]:
        """Every named server with its clients, in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._server_key(name))
            pipe.hgetall(self._clients_key(name))
        replies = pipe.execute()
        return [_server(name, replies[2 * i], replies[2 * i + 1]) for i, name in enumerate(names)]

    def commit(self, state: ServerState, changed: dict[str, ClientState]) -> bool:
        """Store ``state`` (its fields) and the ``changed`` clients if the server's version is still the one
        ``state`` was read at; False when another file was committed meanwhile."""
        fields = {
            "name": state.name,
            "version": str((state.version or 0) + 1),
            "time": str(state.time),
            "received": repr(float(state.received)),
            "sent": repr(float(state.sent)),
            "connected": str(state.connected),
            "form": state.form,
        }
        args: list[Any] = ["" if state.version is None else str(state.version), json.dumps(fields)]
        for name, client in changed.items():
            args.extend((name, json.dumps(asdict(client), separators=(",", ":"))))
        keys = [self._server_key(state.name), self._clients_key(state.name)]
        return bool(self.scripts.run_many("vpn_commit", [(keys, args)])[0] == 1)

    def claim_file(self, name: str, time: int, keep_after: int) -> bool:
        """True for the first caller that claims the file of ``time`` (twice, or twice at once: once);
        claims older than ``keep_after`` are dropped."""
        key = self._files_key(name)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key, {str(time): time}, nx=True)
        pipe.zremrangebyscore(key, "-inf", f"({keep_after}")
        added, _ = pipe.execute()
        return bool(added)

    def release_file(self, name: str, time: int) -> None:
        """Give a claim back (the file could not be stored, so a later run may try again)."""
        self.redis.zrem(self._files_key(name), str(time))

    # --- certificates ---
    def put_certificate(self, cert: Certificate) -> None:
        self.redis.hset(self._certificates_key(), cert.file, json.dumps(asdict(cert)))

    def certificates(self) -> list[Certificate]:
        raw = self.redis.hgetall(self._certificates_key())
        return sorted((Certificate(**json.loads(v)) for v in raw.values()), key=lambda c: c.file)


def _text(raw: dict[bytes, bytes], name: str, default: str = "") -> str:
    value = raw.get(name.encode())
    return value.decode() if value is not None else default


def _server(name: str, raw: dict[bytes, bytes], clients: dict[bytes, bytes]) -> ServerState:
    if not raw:
        return ServerState(name)
    return ServerState(
        name=name,
        version=int(_text(raw, "version", "0")),
        time=int(_text(raw, "time")) if _text(raw, "time") not in ("", "None") else None,
        received=float(_text(raw, "received", "0")),
        sent=float(_text(raw, "sent", "0")),
        connected=int(_text(raw, "connected", "0")),
        form=_text(raw, "form"),
        clients={k.decode(): ClientState(**json.loads(v)) for k, v in clients.items()},
    )


def vpn_store(client: Any, prefix: str | None = None) -> VpnStore:
    """The store on ``client`` under ``prefix`` (default: the settings' key prefix)."""
    if prefix is None:
        from upstat.config import get_settings

        prefix = get_settings().key_prefix
    return VpnStore(client, prefix)
