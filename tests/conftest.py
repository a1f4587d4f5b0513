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
