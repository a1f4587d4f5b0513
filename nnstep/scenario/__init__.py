"""Scenario files: TOML in, a validated :class:`Scenario` out.

Every problem becomes a located :class:`~nnstep.errors.ScenarioError` naming the
file, the line where it can be found, the key and the reason; a file with several
problems raises them all at once (:class:`~nnstep.errors.ScenarioProblems`).
Sizes are checked before any heavy work so a hostile file cannot make loading slow.

- :mod:`.model` — the :class:`Scenario` and its parts, key names and limits;
- :mod:`.files` — bundled names, paths, reading a file without blocking, TOML;
- :mod:`.validate` — the checks of each section put together, from
  :mod:`.network`, :mod:`.graph`, :mod:`.samples` and :mod:`.parameters`, which
  share the located-error helper of :mod:`.located`.
"""

from __future__ import annotations

from .files import (
    bundled,
    iter_descriptions,
    load_scenario,
    located_error,
    parse_scenario,
    read_file,
    resolve,
    scenario_dir,
)
from .model import (
    CUSTOM_ACTIVATION_KEYS,
    DEFAULT_SCENARIO,
    GRAPH_KEYS,
    GRAPH_RESERVED,
    LAYER_KEYS,
    LOSSES,
    MAX_EPOCHS,
    MAX_FILE_BYTES,
    MAX_GRAPH_NAMES,
    MAX_INTEGER_DIGITS,
    MAX_LAYERS,
    MAX_NESTING,
    MAX_NEURONS_PER_LAYER,
    MAX_PARAMETERS,
    MAX_SAMPLES,
    MAX_TEXT,
    NETWORK_KEYS,
    RESERVED,
    SAMPLE_KEYS,
    TOP_KEYS,
    TRAINING_KEYS,
    CustomActivation,
    Graph,
    GraphNode,
    Layer,
    Neuron,
    Sample,
    Scenario,
)
from .network import PlannedName, planned_names

__all__ = [
    "CUSTOM_ACTIVATION_KEYS", "DEFAULT_SCENARIO", "GRAPH_KEYS", "GRAPH_RESERVED", "LAYER_KEYS", "LOSSES",
    "MAX_EPOCHS", "MAX_FILE_BYTES", "MAX_GRAPH_NAMES", "MAX_INTEGER_DIGITS", "MAX_LAYERS", "MAX_NESTING",
    "MAX_NEURONS_PER_LAYER", "MAX_PARAMETERS", "MAX_SAMPLES", "MAX_TEXT", "NETWORK_KEYS", "RESERVED",
    "SAMPLE_KEYS", "TOP_KEYS", "TRAINING_KEYS", "CustomActivation", "Graph", "GraphNode", "Layer", "Neuron",
    "PlannedName", "Sample", "Scenario", "bundled", "iter_descriptions", "load_scenario", "located_error",
    "parse_scenario",
    "planned_names", "read_file", "resolve", "scenario_dir",
]
