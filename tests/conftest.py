"""Fixtures: every test that spawns processes must leave no child and no fd behind."""

from __future__ import annotations

import pytest

from . import spec
from .helpers import fd_targets, live_children, open_fds, wait_until


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves a child process or a file descriptor behind."""
    before_fds = open_fds()
    before_children = set(live_children())
    yield
    # Children are reaped by close(); give a killed grandchild's zombie a moment to go.
    clean = wait_until(lambda: not (set(live_children()) - before_children), timeout=5.0)
    assert clean, f"child processes left: {set(live_children()) - before_children}"
    after_fds = open_fds()
    new = after_fds - before_fds
    assert not new, f"file descriptors left open: {fd_targets(new)}"


def pytest_report_header(config):
    return spec.describe()
