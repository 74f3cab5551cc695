"""Key names of the backup store, built by pure functions in one place.

Everything of one server lives under the hash tag ``{bk:<digest of its id>}`` (its record, its jobs, its
name index, each job's record), so a server's keys share one cluster slot whatever characters its id and
its jobs' ids hold. Global indexes (server id <-> number, the number counter, the scheduled jobs) are
single keys written by single-key commands.
"""

from __future__ import annotations

from upstat.store.keyspace import name_id


class BackupKeys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _server(self, server_id: str) -> str:
        return f"{self.prefix}bk:{{bk:{name_id('backup-server', server_id)}}}"

    def server(self, server_id: str) -> str:
        """Hash: id, number, name (the alias is the registry's name: see store.alias_of)."""
        return self._server(server_id)

    def jobs(self, server_id: str) -> str:
        """Set: the ids of the server's jobs."""
        return f"{self._server(server_id)}:jobs"

    def names(self, server_id: str) -> str:
        """Hash: job name -> job id (a job is looked up by its name)."""
        return f"{self._server(server_id)}:names"

    def job(self, server_id: str, job_id: str) -> str:
        """Hash: the job's record (see store.Job), in its server's slot."""
        return f"{self._server(server_id)}:job:{name_id('backup-job', job_id)}"

    def scheduled(self) -> str:
        """Set: ``<server id>\\x1f<job id>`` of every job with a schedule (read by the overdue tick)."""
        return f"{self.prefix}bk:scheduled"
