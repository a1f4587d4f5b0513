"""The ``[parameters]`` and ``[training]`` sections: seed, given starting values, learning rate, epochs."""

from __future__ import annotations

import difflib
from typing import Any

from ..errors import quote
from .located import Checker, kind_of
from .model import MAX_EPOCHS, TRAINING_KEYS


class ParameterChecks(Checker):
    """The checks of ``[parameters]`` and ``[training]``."""

    def parameters(self, value: Any, known: tuple[str, ...] | None) -> tuple[int | None, dict[str, float] | None]:
        """The seed and the given starting values; ``known`` is None when the parameter
        names are unknown (a broken network), and then only the values are checked."""
        if not isinstance(value, dict):
            self.note(self.fail("parameters", f"must be a table, not {kind_of(value)}"))
            return None, None
        seed: int | None = 0
        given: dict[str, float] = {}
        before = len(self.problems)
        for k, v in value.items():
            key = f"parameters.{k}"
            if k == "seed":
                seed = self.attempt(self.integer, v, key, 0, 2**32 - 1)
            elif known is None or k in known:
                x = self.attempt(self.number, v, key)
                if x is not None:
                    given[k] = x
            else:
                hint = difflib.get_close_matches(k, known, n=1)
                tip = f"did you mean '{hint[0]}'? " if hint else ""
                shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
                self.note(self.fail(key, f"the network has no parameter {quote(k)}; {tip}it has: seed, {shown}"))
        return seed, (given if len(self.problems) == before else None)

    def training(self, value: Any) -> tuple[float | None, int | None]:
        t = self.attempt(self.table, value, "training", TRAINING_KEYS)
        if t is None:
            return None, None
        lr = self.attempt(self.number, t.get("learning_rate", 0.1), "training.learning_rate")
        if lr is not None and lr <= 0:
            self.note(self.fail("training.learning_rate", f"must be positive, not {lr:g}"))
            lr = None
        epochs = self.attempt(self.integer, t.get("epochs", 1000), "training.epochs", 1, MAX_EPOCHS)
        return lr, epochs
