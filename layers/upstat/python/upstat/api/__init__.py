"""The HTTP API: one FastAPI application assembled from routers (see upstat.api.app)."""
