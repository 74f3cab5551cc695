"""The Netflow Collector API (netflow-collector-api.txt): ``routes`` (its paths, fields and error shape) and
``flows`` (goflow2's JSON and nfdump's CSV read into counts per exporter and second)."""
