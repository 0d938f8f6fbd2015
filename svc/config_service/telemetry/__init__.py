"""Telemetry: logging set-up, and metrics: a generic multi-process Prometheus store
(families.py, registry.py, store.py), the service's catalogue of families (catalogue.py), a
stand-in that records nothing (ignored.py), and the /metrics route (route.py).

It may import the shared vocabulary; nothing else.
"""
