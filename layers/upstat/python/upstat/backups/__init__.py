"""The backup domain: servers that run backup jobs, each run's figures as series, schedules and summaries.

A backup server (a machine) runs backup jobs; each run reports when it began, how long it took, what it
examined and stored, and how it ended. Runs are written to the one time-series engine (one source per job,
see :mod:`upstat.backups.runs`); servers and jobs, their display names, the small numbers people use for
servers and the jobs' expected schedules are kept by :mod:`upstat.backups.store`. Reads
(:mod:`upstat.backups.figures`) give per-bucket figures, statistics and summaries as plain values, in this
domain's words; a dialect (duplistatus) maps them to its document's fields.
"""
