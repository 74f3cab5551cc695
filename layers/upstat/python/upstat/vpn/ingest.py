"""A VPN server's status file into upstat: per-client byte counters, the server's totals and clients
connected, each client's session, all at the file's own time.

What one file stores (README "OpenVPN Monitor API"):

- each client (source ``openvpn:<server>:<common name>``): counters ``bytes_received`` and ``bytes_sent``
  at the file's time, and a zero at its session's start when that start is inside the raw tier's window,
  so a reconnect (a new start time, or counters lower than before) reads as a restart from zero, never as a
  negative rate, and a session's bytes count from its start;
- the server (source ``openvpn:<server>``): ``bytes_received`` and ``bytes_sent``, its running totals (the
  sum of what every client moved since the previous file: :func:`upstat.timeseries.sessions.step`), and
  ``clients_connected``, the clients the file lists;
- the server's state: each client's last sight (who is active: those of the newest file);
- the server and its new clients in the sources registry (:func:`upstat.vpn.servers.register`), once the
  file is known to be valid.

A file older than (or as old as) the newest one already stored is late: its points land at its time (the
clients' counters and clients connected), the server's totals and state stay as the newer file left them.
Two files of one server at once are serialised by a compare-and-set on the server's state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from upstat.errors import InvalidInput
from upstat.names import check_name
from upstat.timeseries import sessions
from upstat.timeseries.delimited import problem
from upstat.timeseries.ingest import Point, store_validated, validate_many
from upstat.timeseries.points import check_time
from upstat.vpn.servers import client_source, register, server_source
from upstat.vpn.statusfile import LABEL, ClientRow, StatusFile
from upstat.vpn.store import ClientState, ServerState, VpnStore

RECEIVED, SENT, CONNECTED = "bytes_received", "bytes_sent", "clients_connected"
KINDS = {RECEIVED: "counter", SENT: "counter", CONNECTED: "gauge"}
#: A server's name is at most this long, so its clients' source ids stay within the registry's 200.
MAX_SERVER = 100
_COMMIT_TRIES = 8


@dataclass(frozen=True)
class Ingested:
    """What one status file did."""

    server: str
    time: int
    clients: int
    started: list[str]
    restarted: list[str]
    ended: list[str]
    points: int
    late: bool


def ingest_status(
    client: Any, engine: Any, store: VpnStore, status: StatusFile, *, server: str, now: int
) -> Ingested:
    """Store one status file of ``server`` (all of it, or nothing with an error naming the line)."""
    check_name(server, "server", max_len=MAX_SERVER, path_segment=True)
    lowest = engine.lowest_accepted(now)
    _check_file_time(status, now, lowest)
    for _ in range(_COMMIT_TRIES):
        state = store.load(server)
        done = _apply(client, engine, store, state, status, now=now, lowest=lowest)
        if done is not None:
            return done
    raise InvalidInput(  # pragma: no cover - needs eight files of one server committed within one read
        f"server: too many status files of {server!r} at once; send this one again", field="server"
    )


def _check_file_time(status: StatusFile, now: int, lowest: int | None) -> None:
    try:
        check_time(status.time, field="time", now=now, lowest=lowest)
    except InvalidInput as exc:
        what = exc.message.removeprefix("time: ")
        raise problem(LABEL, status.time_line, f"the file's time {what}") from None


def _whole(lowest: int | None, time: int) -> Any:
    """A first sight counts its session whole when its start is a point we can write (inside the window)."""

    def whole(seen: sessions.Seen) -> bool:
        return seen.since is not None and (lowest is None or seen.since >= lowest) and seen.since < time

    return whole


def _apply(
    client: Any,
    engine: Any,
    store: VpnStore,
    state: ServerState,
    status: StatusFile,
    *,
    now: int,
    lowest: int | None,
) -> Ingested | None:
    """One attempt: None when another file of the server was committed meanwhile (try again)."""
    server, time = state.name, status.time
    whole = _whole(lowest, time)
    current = {
        r.common_name: sessions.Seen(r.connected_since, (r.received, r.sent), time) for r in status.clients
    }
    late = state.time is not None and time <= state.time
    points = {client_source(server, r.common_name): _client_points(r, time, whole) for r in status.clients}
    server_points = [
        Point(CONNECTED, len(status.clients), time, "clients", f"{LABEL} line {status.time_line}")
    ]
    if late:
        validated = validate_many(
            engine, [*points.items(), (server_source(server), server_points)], KINDS, now=now
        )
        register(client, server, (r.common_name for r in status.clients), now=now)
        stored = store_validated(engine, validated, now=now)
        return Ingested(server, time, len(status.clients), [], [], [], stored, True)
    previous = {
        name: sessions.Seen(c.since, (c.received, c.sent), c.time) for name, c in state.clients.items()
    }
    step = sessions.step(previous, current, previous_time=state.time, counted_whole=whole)
    new = replace(
        state,
        time=time,
        received=state.received + step.total[0] if step.total else state.received,
        sent=state.sent + step.total[1] if step.total else state.sent,
        connected=len(status.clients),
        form=status.form,
    )
    server_points += _server_totals(state, new, time, status.time_line)
    validated = validate_many(
        engine, [*points.items(), (server_source(server), server_points)], KINDS, now=now
    )
    changed = {
        r.common_name: _client_state(state.clients.get(r.common_name), r, step, time) for r in status.clients
    }
    register(client, server, changed, now=now)
    if not store.commit(new, changed):
        return None
    stored = store_validated(engine, validated, now=now)
    return Ingested(
        server, time, len(status.clients), step.started, step.restarted, step.ended, stored, False
    )


def _client_points(row: ClientRow, time: int, whole: Any) -> list[Point]:
    """The file's counters of one client, after a zero at its session's start when that is writable."""
    where = f"{LABEL} line {row.line}"
    out = []
    if whole(sessions.Seen(row.connected_since, (), time)):
        out += [
            Point(RECEIVED, 0, row.connected_since, where, f"{where}: Connected Since"),
            Point(SENT, 0, row.connected_since, where, f"{where}: Connected Since"),
        ]
    out += [
        Point(RECEIVED, row.received, time, f"{where}: Bytes Received", f"{where}: time"),
        Point(SENT, row.sent, time, f"{where}: Bytes Sent", f"{where}: time"),
    ]
    return out


def _server_totals(before: ServerState, after: ServerState, time: int, line: int) -> list[Point]:
    """The server's running totals; its first file starts them from zero just before, so what that file
    counted is an increase like any other."""
    where = f"{LABEL} line {line}"
    out = []
    if before.version is None:
        out += [Point(RECEIVED, 0, time - 1, where, where), Point(SENT, 0, time - 1, where, where)]
    return [
        *out,
        Point(RECEIVED, after.received, time, where, where),
        Point(SENT, after.sent, time, where, where),
    ]


def _client_state(before: ClientState | None, row: ClientRow, step: sessions.Step, time: int) -> ClientState:
    moved = step.increase[row.common_name]
    rate = step.rate[row.common_name]
    return ClientState(
        since=row.connected_since,
        received=row.received,
        sent=row.sent,
        time=time,
        first=before.first if before else time,
        received_rate=rate[0],
        sent_rate=rate[1],
        received_total=(before.received_total if before else 0.0) + moved[0],
        sent_total=(before.sent_total if before else 0.0) + moved[1],
        real_address=row.real_address,
        virtual_address=row.virtual_address,
    )
