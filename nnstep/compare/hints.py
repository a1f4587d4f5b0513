"""Hints: the common mistakes that would explain a differing value."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..program import Op
from ..text import visible
from .reference import Reference, TrainingSample
from .results import MAX_HINT_SAMPLES, values_agree


@dataclass
class Hints:
    """What a common mistake would explain a differing value: each check recomputes the
    reference with the mistake made and compares."""

    ref: Reference
    cur: TrainingSample
    params: list[str]
    known: dict[str, float]  # the learner's latest value of each watched name

    def hint(self, op: Op, yours: float, expected: float) -> str:
        cur, ref = self.cur, self.ref
        assert cur is not None and ref is not None
        prog = ref.program
        slot = prog.slot
        if op.kind == "update":
            return self.update_hint(op, yours)
        if expected != 0 and values_agree(yours, -expected):
            return "the sign is flipped"
        m = re.search(r"deriv_sigmoid\((\w+)\)", op.code)
        if m and m.group(1) in slot:
            s = cur.v[slot[m.group(1)]]
            sg = 1 / (1 + math.exp(-s)) if s > -700 else 0.0
            ds = sg * (1 - sg)
            if ds != 0:
                for what, alt in ((f"σ({m.group(1)}) alone", sg),
                                  (f"{m.group(1)}·(1 − {m.group(1)}): the derivative applied to the sum "
                                   f"rather than to σ({m.group(1)})", s * (1 - s)),
                                  ("σ·(1 + σ) instead of σ·(1 − σ)", sg * (1 + sg)),
                                  (f"1 − σ({m.group(1)}) alone", 1 - sg)):
                    if values_agree(yours, expected / ds * alt):
                        return f"σ′ written wrong: your value fits {what}; σ′(s) = σ(s)·(1 − σ(s))"
        if op.kind == "total":
            swapped = self.swapped_factor(op.terms, yours, cur.v)
            if swapped:
                return swapped
        if expected != 0:
            for factor, what in ((0.5, "a factor 2 is missing"), (2.0, "a factor 2 too many")):
                if values_agree(yours, expected * factor):
                    return what
        # computed from a parameter already updated in this sample?
        if cur.updated and op.kind in ("partial", "total", "sum", "activation", "alias", "loss"):
            v = list(cur.v)
            first = slot[self.params[0]]
            v[first:first + len(self.params)] = cur.start
            for p, val in cur.updated.items():
                v[slot[p]] = val
            out, fn = prog.kernels[op.index]
            if values_agree(yours, fn(v)):
                used = [p for p in cur.updated if p in op.reads] or list(cur.updated)
                return (f"computed with {', '.join(used)} already updated in this sample: compute every "
                        f"gradient before the first update")
        other = self.other_sample(op.name, yours)
        if other:
            return other
        return ""

    def update_hint(self, op: Op, yours: float) -> str:
        cur, ref = self.cur, self.ref
        assert cur is not None and ref is not None
        prog = ref.program
        lr = ref.scenario.learning_rate
        p = op.name
        old = cur.start[self.params.index(p)]
        grad_name = f"d_L_d_{p}"
        g = cur.v[prog.slot[grad_name]]
        if values_agree(yours, old):
            return f"{p} did not change: a missing update"
        step = (old - yours) / lr  # what the learner's update multiplied learn_rate by
        if g == 0:
            return ""
        theirs = self.known.get("learn_rate")
        if theirs is not None and not values_agree(theirs, lr) and values_agree(step * lr, theirs * g):
            return f"your learning rate is {theirs!r} here, not {lr!r} as when training started"
        for f in (0.5, 2.0):
            if values_agree(step, f * g):
                return (f"an update with the wrong factor: your step is {f:g} × learn_rate × {grad_name}, "
                        f"not learn_rate × {grad_name}")
        if values_agree(step, -g):
            return "the update goes the wrong way: += where -= belongs, or the gradient's sign"
        if values_agree(step, lr * g):
            return "the learning rate is applied twice"
        if values_agree(step, g / lr):
            return "the learning rate is missing from the update"
        for other in self.params:
            if other != p and values_agree(step, cur.v[prog.slot[f"d_L_d_{other}"]]):
                return f"{p} is updated with the gradient of {other} (d_L_d_{other})"
        total = prog.by_name.get(grad_name)
        if total is not None and total.kind == "total":
            swapped = self.swapped_factor(total.terms, step, cur.v)
            if swapped:
                return swapped + f" (in the update of {p})"
        return (f"an update with the wrong factor: your step is {step / g:.6g} × learn_rate × {grad_name}, "
                f"not learn_rate × {grad_name}")

    def swapped_factor(self, terms: tuple[tuple[str, ...], ...], value: float, v: list[float]) -> str:
        """A chain product with one factor replaced by another partial of the program."""
        prog = self.ref.program  # type: ignore[union-attr]
        partials = [op.name for op in prog.ops if op.kind in ("partial", "total")]
        for t, term in enumerate(terms):
            rest = sum(math.prod(v[prog.slot[f]] for f in other) for u, other in enumerate(terms) if u != t)
            for k, factor in enumerate(term):
                others = math.prod(v[prog.slot[f]] for j, f in enumerate(term) if j != k)
                for cand in partials:
                    if cand == factor:
                        continue
                    if values_agree(value, others * v[prog.slot[cand]] + rest):
                        return f"a wrong factor in the chain product: {cand} where {factor} belongs"
        return ""

    def other_sample(self, name: str, yours: float) -> str:
        """The value of another sample (or this sample's inputs with another's target)."""
        cur, ref = self.cur, self.ref
        assert cur is not None and ref is not None
        slot = ref.program.slot[name]
        M = len(ref.rows)
        x_i, y_i = ref.rows[cur.i]
        for j in range(min(M, MAX_HINT_SAMPLES)):
            if j == cur.i:
                continue
            name = visible(ref.scenario.samples[j].name)
            x_j, y_j = ref.rows[j]
            if values_agree(yours, ref.values(cur.start, j)[slot]):
                return (f"this is the value for sample {j + 1} ({name}), not sample {cur.i + 1}: "
                        f"an off-by-one in the samples?")
            if y_j != y_i and values_agree(yours, ref.values(cur.start, cur.i, y=y_j)[slot]):
                return f"this uses the target of sample {j + 1} ({name}): inputs and targets are out of step"
            if x_j != x_i and values_agree(yours, ref.values(cur.start, cur.i, x=x_j)[slot]):
                return f"this uses the inputs of sample {j + 1} ({name}): inputs and targets are out of step"
        return ""
