"""Bounded waits: a test that waits for something fails when it does not come, never hangs."""

import time

import pytest


def until(condition, seconds: float = 5.0, message: str = "not true"):
    """Poll `condition` until it returns something truthy, and return that; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{message} within {seconds}s")
        time.sleep(0.01)
