"""Redis access: the client, key names and Lua scripts. Nothing above this package talks to Redis directly."""
