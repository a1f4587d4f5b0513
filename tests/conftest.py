"""Suite-wide settings.

The suite runs on one pytest-xdist worker per core (``-n auto --dist worksteal``)
unless the command line says otherwise: ``-n 0`` or ``-p no:xdist`` runs it in
this one process (for ``--pdb``, ``-s`` or a single test), ``-n 4`` on four.
These options are set here rather than in ``addopts`` so that ``-p no:xdist``
still parses."""

from __future__ import annotations

import pytest
from hypothesis import settings

# The workers share the cores (with each other and with the TUI tests' worker
# threads), so a Hypothesis example's wall-clock time says nothing about the code.
settings.register_profile("nnstep", deadline=None)
settings.load_profile("nnstep")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # xdist blocked (-p no:xdist), or this is one of its workers
    if config.option.numprocesses is None and not config.option.tx:
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "worksteal"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests (marked ``long``) first: the workers then end on short ones
    together instead of one of them finishing a half-minute test alone."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order


def _finer_idle_waits() -> None:
    """Pilot waits for the process to go idle after each key and pause
    (``textual._wait.wait_for_idle``): it sleeps in 20 ms slices until one passes with
    under 1 ms of CPU time, so every key costs at least 40 ms asleep.  Slices of 5 ms
    (idle: under 0.25 ms of CPU, the same share) ask the same question 4x sooner; a
    test waiting for a worker waits for it by name (``settle``, ``wait_idle``)."""
    try:
        import textual._wait as wait
    except ImportError:
        return
    wait.SLEEP_GRANULARITY = 1 / 200
    wait.SLEEP_IDLE = wait.SLEEP_GRANULARITY / 20


_finer_idle_waits()
