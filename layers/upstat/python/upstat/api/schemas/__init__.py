"""Request and response shapes of upstat's own routes, with the examples the OpenAPI document shows."""
