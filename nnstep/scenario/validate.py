"""A parsed TOML document in, a :class:`Scenario` out: the sections' checks put together.

Each section, layer, sample and parameter is checked on its own; every problem
found is raised at once at the end (:func:`~nnstep.errors.raise_all`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ScenarioError, raise_all
from .graph import GraphChecks
from .model import TOP_KEYS, Layer, Sample, Scenario, parameter_order, wire
from .network import NetworkChecks
from .parameters import ParameterChecks
from .samples import SampleChecks


class Validator(NetworkChecks, GraphChecks, SampleChecks, ParameterChecks):
    """All the checks of a scenario file."""

    def __init__(self, raw: dict[str, Any], text: str, label: str) -> None:
        super().__init__(raw, text, label)
        self.shapes: list[Layer | None] = []

    def scenario(self) -> Scenario:
        raw = self.table(self.raw, "", TOP_KEYS)
        if "network" in raw and "graph" in raw:
            self.note(self.fail("graph", "a scenario has either [network] (layers) or [graph] (formulas), "
                                "not both"))
        elif "network" not in raw and "graph" not in raw:
            self.note(ScenarioError("missing [network] (layers) or [graph] (named formulas)",
                                    file=self.label, key="network"))
        elif "graph" not in raw and "samples" not in raw:
            self.note(ScenarioError("missing [[samples]]", file=self.label, key="samples"))
        name = self.attempt(self.string, raw.get("name", Path(self.label).stem), "name")
        description = self.attempt(lambda v, k: self.string(v, k, multiline=True),
                                   raw.get("description", ""), "description")
        graph = network = None
        if "graph" in raw and "network" not in raw:
            graph = self.attempt(self.graph, raw["graph"])
        elif "network" in raw and "graph" not in raw:
            network = self.network(raw["network"])
        lr, epochs = self.training(raw.get("training", {}))
        samples: tuple[Sample, ...] | None = None
        if graph is not None:
            samples = self.graph_samples(raw.get("samples"), graph.inputs)
        elif network is not None and "samples" in raw:
            samples = self.samples(raw["samples"], network)
        known: tuple[str, ...] | None = None
        if graph is not None:
            known = graph.parameters
        elif network is not None and network.inputs is not None and network.shapes is not None \
                and not network.too_big:
            known = parameter_order(wire(network.inputs, network.shapes))
        seed, given = self.parameters(raw.get("parameters", {}), known)
        raise_all(self.problems)
        assert name is not None and description is not None and lr is not None and epochs is not None
        assert samples is not None and seed is not None and given is not None
        if graph is not None:
            inputs, layers, loss = graph.inputs, (), "graph"
        else:
            assert network is not None and network.inputs is not None and network.layers is not None
            assert network.loss is not None
            inputs, layers, loss = network.inputs, network.layers, network.loss
        return Scenario(name=name, description=description, source=self.label, inputs=inputs,
                        layers=layers, loss=loss, learning_rate=lr, epochs=epochs, samples=samples,
                        seed=seed, given=given, graph=graph)
