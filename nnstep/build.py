"""The one entry point from a scenario to its program: layers or a formula graph."""

from __future__ import annotations

from .graph import build_graph_program
from .layered import build_layered_program
from .program import Program
from .scenario import Scenario


def build_program(scenario: Scenario) -> Program:
    """Build the ordered op program of one training step (layers or a formula graph);
    every problem is a located :class:`~nnstep.errors.ScenarioError`."""
    if scenario.graph is not None:
        return build_graph_program(scenario)
    return build_layered_program(scenario)
