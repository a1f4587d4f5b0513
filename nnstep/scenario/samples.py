"""The ``[[samples]]`` of either form: names, inputs and targets, each sample checked on its own."""

from __future__ import annotations

from typing import Any

from ..errors import ScenarioError, quote
from .located import Checker, Recorded
from .model import MAX_NEURONS_PER_LAYER, MAX_SAMPLES, SAMPLE_KEYS, Sample
from .network import NetworkParts


class SampleChecks(Checker):
    """The checks of ``[[samples]]``."""

    def samples(self, value: Any, network: NetworkParts) -> tuple[Sample, ...] | None:
        rows = self.rows(value)
        if rows is None:
            return None
        n_in = None if network.inputs is None else len(network.inputs)
        n_out = None if network.shapes is None else len(network.shapes[-1].neurons)
        out = [self.attempt(self.sample, row, i, n_in, n_out, network.loss) for i, row in enumerate(rows)]
        return None if any(s is None for s in out) else tuple(out)  # type: ignore[arg-type]

    def rows(self, value: Any) -> list[Any] | None:
        """The ``[[samples]]`` tables (at least one), or None after recording why not."""
        rows = self.attempt(self.array, value, "samples", max_len=MAX_SAMPLES)
        if rows is not None and not rows:
            self.note(self.fail("samples", "needs at least one sample"))
            return None
        return rows

    def sample_name(self, row: Any, i: int) -> str:
        """A sample's name (default ``#1``, ``#2``, ...); a given one also labels its errors."""
        if not isinstance(row, dict) or "name" not in row:
            return f"#{i + 1}"
        name = self.string(row["name"], f"samples[{i}].name")
        self.sample_names[i] = name
        return name

    def sample(self, row: Any, i: int, n_in: int | None, n_out: int | None, loss: str | None) -> Sample:
        key = f"samples[{i}]"
        before = len(self.problems)
        name = self.attempt(self.sample_name, row, i)
        t = self.table(row, key, SAMPLE_KEYS)
        for required in ("x", "y"):
            if required not in t:
                self.note(self.fail(key, f"missing key '{required}'"))
        xs = self.attempt(self.vector, t["x"], f"{key}.x", n_in, "inputs") if "x" in t else None
        ys = self.attempt(self.vector, t["y"], f"{key}.y", n_out, "outputs") if "y" in t else None
        if ys is not None and loss not in (None, "mse") and any(not 0.0 <= y <= 1.0 for y in ys):
            self.note(self.fail(f"{key}.y", f"{loss} needs targets between 0 and 1"))
        if len(self.problems) > before or name is None or xs is None or ys is None:
            raise Recorded()
        return Sample(name, xs, ys)

    def vector(self, value: Any, key: str, n: int | None, what: str) -> tuple[float, ...]:
        if isinstance(value, int | float) and not isinstance(value, bool) and n in (1, None):
            value = [value]
        items = self.array(value, key, max_len=MAX_NEURONS_PER_LAYER)
        if n is not None and len(items) != n:
            raise self.fail(key, f"has {len(items)} values but the network has {n} {what}")
        out = self.each(items, self.number, key)
        if out is None:
            raise Recorded()
        return out

    def graph_samples(self, value: Any, inputs: tuple[str, ...]) -> tuple[Sample, ...] | None:
        if value is None:
            if inputs:
                self.note(ScenarioError(f"missing [[samples]] (values for {', '.join(inputs)})",
                                        file=self.label, key="samples"))
                return None
            return (Sample("#1", (), ()),)
        rows = self.rows(value)
        if rows is None:
            return None
        out = [self.attempt(self.graph_sample, row, i, inputs) for i, row in enumerate(rows)]
        return None if any(s is None for s in out) else tuple(out)  # type: ignore[arg-type]

    def graph_sample(self, row: Any, i: int, inputs: tuple[str, ...]) -> Sample:
        key = f"samples[{i}]"
        before = len(self.problems)
        name = self.attempt(self.sample_name, row, i)
        t = self.table(row, key, ("name", *inputs))
        missing = [x for x in inputs if x not in t]
        if missing:
            self.note(self.fail(key, f"missing a value for input {quote(missing[0])} "
                                f"(each sample gives {', '.join(inputs)})"))
        xs = tuple(self.attempt(self.number, t[x], f"{key}.{x}") for x in inputs if x in t)
        if len(self.problems) > before or name is None or any(x is None for x in xs):
            raise Recorded()
        return Sample(name, xs, ())  # type: ignore[arg-type]
