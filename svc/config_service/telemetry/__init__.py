"""Telemetry: logging (set-up in logs.py, what a line looks like in log_lines.py, writing a
loop turn's lines together in batching_handler.py), and metrics: a generic multi-process
Prometheus store
(families.py, registry.py, store.py), the service's catalogue of families (catalogue.py), a
stand-in that records nothing (ignored.py), and the /metrics route (route.py).

It may import the shared vocabulary; nothing else.
"""
