"""Alert rules on any series (``/v1/rules``): the rule, its evaluation from the tiers, the per-series state
machine, their store, and the one delivery path for recorded changes; devices' health and backups'
overdue jobs are built-in rules judged by the same evaluation and state machine."""
