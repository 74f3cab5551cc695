"""Monitored network devices: what a device's report says (netjson), its health (health: built-in alert
rules), what upstat keeps of it besides its series (store: the latest report, the health its rules give,
Wi-Fi sessions) and the steps that tie these to the engine and the registry (monitoring). Plain values, no
HTTP: any dialect of devices reuses it.
"""
