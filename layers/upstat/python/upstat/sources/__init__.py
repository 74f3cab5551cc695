"""The sources registry: what a source is (a device, a VPN server, an exporter...), whose it is
(organizations) and where it stands (locations, nearby sources), for upstat's routes and every dialect.

A registered source's id is the engine's source name: its series are ``(id, metric)``. Sources an agent
writes without registering stay plain engine sources (no kind, no organization).

- :mod:`upstat.sources.models`: the plain values (Source, Organization, Location) and their rules;
- :mod:`upstat.sources.store`: every Redis command of the registry (keys in :mod:`upstat.sources.keyspace`);
- :mod:`upstat.sources.registration`: registering a source with its source key, removing one with its
  series and keys;
- :mod:`upstat.sources.access`: who may use which source (source keys, organization-bound keys).
"""
