"""The stepper: move through a training run one scalar op at a time, both ways.

The position ``t`` counts the ops executed since the start: 0 is before the
first op, ``total`` after the last update of the last epoch.  The *current op*
is the one executed last, so its value is on screen.  State is rebuilt from
the parameters at the start of the current sample (kept as sparse checkpoints
and replayed with the same kernels), so stepping back is exact to the bit
without storing every value of the run.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .build import build_program
from .codegen import fused
from .errors import NNStepError
from .expr import Node, compile_numeric, names_in, parse, render
from .fast import fused_fits, whole_samples
from .gradcheck import GradientCheck, check_gradient
from .program import PHASES, Op, Program
from .scenario import Scenario, load_scenario

#: Memory the parameter checkpoints of one run may take.
CHECKPOINT_BUDGET = 48 * 1024 * 1024


@dataclass(frozen=True)
class Condition:
    """A breakpoint condition such as ``abs(d_L_d_w1) > 0.04``; checked after any
    op that writes a name it reads.  Names not yet computed in the sample are nan."""

    text: str
    reads: frozenset[str]
    test: Callable[[list[float]], float]
    expr: Node  # the parsed condition (for the generated whole-sample check)


class EditError(NNStepError):
    """A what-if edit or a watch expression that cannot be made."""


@dataclass(frozen=True)
class Edit:
    """A what-if edit: ``name = text`` made at op position ``k`` (ops executed) of global
    sample ``g``, where the formula gave ``value`` (the name was ``old`` at the start of
    that sample).

    It applies at the *start* of sample ``g``: a parameter's value from there on (the
    training carries it forward), an input or target for that occurrence of the sample
    only, the learning rate from sample ``g`` on (until another learning-rate edit)."""

    g: int
    k: int
    name: str
    kind: str  # parameter | input | target | learn_rate
    text: str
    value: float
    old: float


@dataclass(frozen=True)
class Watch:
    """A watch expression (pdb's ``display``) in the safe formula language; its value
    is nan where it reads a name the sample has not computed yet."""

    text: str
    reads: frozenset[str]
    evaluate: Callable[[Sequence[float]], float]


class _EditedData:
    """The program as :func:`nnstep.gradcheck.check_gradient` uses it, with sample ``g``'s
    edited inputs and targets in every loss it measures."""

    def __init__(self, dbg: Debugger, g: int) -> None:
        self.dbg, self.g = dbg, g
        self.parameters = dbg.program.parameters

    def new_slots(self) -> list[float]:
        return self.dbg.program.new_slots()

    def sample_loss(self, params: Sequence[float], sample_index: int, v: list[float] | None = None) -> float:
        p = self.dbg.program
        v = v if v is not None else p.new_slots()
        p.load(v, params, sample_index)
        self.dbg._override(self.g, v)
        p.run(v, 0, p.loss_end)
        return v[p.slot[p.loss]]


class _Cancelled(Exception):
    """A replay from a checkpoint was cancelled (internal to :meth:`Debugger.goto`)."""


@dataclass(frozen=True)
class Stop:
    """Why a run stopped."""

    reason: str  # breakpoint | condition | nonfinite | target | end | cancelled
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class Debugger:
    """Step through training one scalar op at a time.

    >>> dbg = Debugger("note-network")
    >>> dbg.step(); dbg.current_op.name
    'sum_h1'
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
                 epochs: int | None = None, program: Program | None = None) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self.program = program or build_program(scenario)
        self.seed = scenario.seed if seed is None else seed
        self.epochs = scenario.epochs if epochs is None else max(1, int(epochs))
        self.ops = self.program.ops
        self.op_count = len(self.ops)
        self.sample_count = len(scenario.samples)
        self.total = self.epochs * self.sample_count * self.op_count
        self.breakpoints: set[str] = set()
        self.conditions: list[Condition] = []
        self.stop_on_nonfinite = False
        init = scenario.initial_parameters(self.seed)
        self.initial = [init[p] for p in self.program.parameters]
        n_params = len(self.initial)
        samples_total = self.epochs * self.sample_count
        self._stride = max(1, math.ceil(samples_total * n_params * 8 / CHECKPOINT_BUDGET))
        self._checkpoints: dict[int, array] = {0: array("d", self.initial)}
        self._recent: OrderedDict[int, array] = OrderedDict()
        self._epoch_loss: dict[int, float] = {}
        self._scratch = self.program.new_slots()
        self._v = self.program.new_slots()
        self._g = 0  # global sample index whose start state is loaded in _v
        self._k = 0  # ops of that sample executed
        self._start = array("d", self.initial)
        self._prev: tuple[int, list[float], array] | None = None
        # whole samples, exactly as the kernels would
        self._runner, self._loss_of = whole_samples(self.program)
        self._watchers: dict[tuple, Callable] = {}
        self.program.load(self._v, self._start, 0)
        self._hooks: list[tuple[Condition, ...]] = [()] * self.op_count
        self._bp: list[bool] = [False] * self.op_count
        #: what-if edits in the order they were made (see :meth:`edit`)
        self.edits: list[Edit] = []
        self._by_sample: dict[int, list[Edit]] = {}
        self._lr_edits: list[Edit] = []  # learning-rate edits ordered by sample (then as made)

    # ------------------------------------------------------------------ position

    @property
    def t(self) -> int:
        return self._g * self.op_count + self._k

    @property
    def sample_global(self) -> int:
        """Index of the current sample counted over all epochs."""
        return self._g

    @property
    def epoch(self) -> int:
        return min(self._g // self.sample_count, self.epochs - 1)

    @property
    def sample_index(self) -> int:
        return self._g % self.sample_count if self._g < self.epochs * self.sample_count else self.sample_count - 1

    @property
    def sample(self):
        return self.scenario.samples[self.sample_index]

    @property
    def op_index(self) -> int:
        """Index of the current (last executed) op in the sample's program; -1 before the first."""
        return self._k - 1

    @property
    def current_op(self) -> Op | None:
        return self.ops[self._k - 1] if self._k > 0 else None

    @property
    def next_op(self) -> Op | None:
        if self.t >= self.total:
            return None
        return self.ops[self._k] if self._k < self.op_count else self.ops[0]

    @property
    def phase(self) -> str:
        op = self.current_op
        return op.phase if op else "start"

    @property
    def at_start(self) -> bool:
        return self.t == 0

    @property
    def at_end(self) -> bool:
        return self.t >= self.total

    def position(self) -> tuple[int, int, int]:
        """(epoch, sample, op index) of the current op, all 0-based."""
        return self.epoch, self.sample_index, self.op_index

    # ------------------------------------------------------------------ values

    def value(self, name: str) -> float | None:
        """The current value of a name, or None if this sample has not computed it yet."""
        op = self.program.by_name.get(name)
        if op is not None and op.kind != "update" and op.index >= self._k:
            return None
        return self._v[self.program.slot[name]]

    def values(self) -> dict[str, float | None]:
        """Every named quantity with its current value (None: not yet computed)."""
        return {n: self.value(n) for n in self.program.slot}

    def old_parameters(self) -> dict[str, float]:
        """Parameters as they were at the start of the current sample."""
        return dict(zip(self.program.parameters, self._start))

    def parameters(self) -> dict[str, float]:
        return dict(zip(self.program.parameters, self.program.params_of(self._v)))

    def slots(self) -> list[float]:
        """A copy of the raw slot values (nan where not computed)."""
        return list(self._v)

    def state(self) -> tuple:
        """Everything that defines the observable state, as bytes: equal states compare
        equal bit for bit (nan included)."""
        return (self.t, array("d", self._v).tobytes(), self._start.tobytes())

    # ------------------------------------------------------------------ checkpoints

    def _params_at(self, g: int, cancel: Callable[[], bool] | None = None) -> array:
        """Parameters at the start of global sample ``g`` (replaying from a checkpoint);
        raises :class:`_Cancelled` when ``cancel()`` (asked before each sample replayed)
        turns true."""
        if g in self._checkpoints:
            return self._checkpoints[g]
        if g in self._recent:
            self._recent.move_to_end(g)
            return self._recent[g]
        base = max(k for k in self._checkpoints if k <= g)
        recent = [k for k in self._recent if base < k <= g]
        if recent:
            base = max(recent)
        params = self._checkpoints[base] if base in self._checkpoints else self._recent[base]
        for h in range(base, g):
            if cancel is not None and cancel():
                raise _Cancelled
            params = array("d", self._run_sample(h, params))
            self._remember(h + 1, params)
        return params

    def _run_sample(self, g: int, params: Sequence[float]) -> list[float]:
        """Parameters after global sample ``g`` run whole from the parameters before it
        (its edits applied on the way): the fast runner where no edit touches the sample's
        data or learning rate, else the op kernels."""
        if g not in self._by_sample and not self._lr_edits:
            return self._runner(params, g % self.sample_count)
        start = self._edited_start(g, params)
        if self._plain(g):
            return self._runner(start, g % self.sample_count)
        v = self._scratch
        self.program.load(v, start, g % self.sample_count)
        self._override(g, v)
        self.program.run(v)
        return self.program.params_of(v)

    def _remember(self, g: int, params: array) -> None:
        if g % self._stride == 0:
            self._checkpoints[g] = params
        else:
            self._recent[g] = params
            if len(self._recent) > 64:
                self._recent.popitem(last=False)

    def _enter_sample(self, g: int, params: array | None = None) -> None:
        """Load global sample ``g`` from the parameters before it (``params``, by default
        replayed); its edits apply here."""
        self._g = g
        self._k = 0
        params = params if params is not None else self._params_at(g)
        self._start = self._edited_start(g, params)
        if g < self.epochs * self.sample_count:
            self.program.load(self._v, self._start, g % self.sample_count)
            self._override(g, self._v)

    # ------------------------------------------------------------------ moving

    def goto(self, t: int, *, cancel: Callable[[], bool] | None = None) -> bool:
        """Move to position ``t`` (clamped), ignoring breakpoints.

        A move to another sample may replay samples from a checkpoint; ``cancel``
        is asked before each one, and when it says true the debugger stays where
        it was and goto returns False (True when it got there)."""
        t = max(0, min(int(t), self.total))
        K = self.op_count
        g, k = (0, 0) if t == 0 else divmod(t - 1, K)
        if t > 0:
            k += 1
        if g == self._g and k >= self._k:
            self._run_ops(k)
            return True
        if g == self._g:
            self._undo_to(k)
            return True
        if g == self._g + 1:
            self._run_ops(K)
            self._enter_sample(g, self._finish_sample_params())
        elif g == self._g - 1 and self._prev is not None and self._prev[0] == g:
            # back across a sample boundary: the finished sample is kept whole
            _, slots, start = self._prev
            self._prev = None
            self._v[:] = slots
            self._g, self._k, self._start = g, K, start
            self._undo_to(k)
            return True
        else:
            try:
                params = self._params_at(g, cancel)  # before anything changes
            except _Cancelled:
                return False
            self._enter_sample(g, params)
        self._run_ops(k)
        return True

    def _finish_sample_params(self) -> array:
        """Parameters after the current (finished) sample; keeps the sample's values
        so that stepping back into it costs no recomputation."""
        self._prev = (self._g, self._v[:], self._start)
        params = array("d", self.program.params_of(self._v))
        self._remember(self._g + 1, params)
        return params

    def _run_ops(self, k: int) -> None:
        v = self._v
        for out, fn in self.program.kernels[self._k : k]:
            v[out] = fn(v)
        self._k = max(self._k, k)

    def _undo_to(self, k: int) -> None:
        v, slot, ops = self._v, self.program.slot, self.ops
        first_param = slot[self.program.parameters[0]]
        for i in range(self._k - 1, k - 1, -1):
            op = ops[i]
            s = slot[op.name]
            v[s] = self._start[s - first_param] if op.kind == "update" else math.nan
        self._k = k

    def step(self, n: int = 1) -> None:
        """Execute the next ``n`` ops (no breakpoints)."""
        self.goto(self.t + n)

    def back(self, n: int = 1) -> None:
        """Undo the last ``n`` ops exactly."""
        self.goto(self.t - n)

    def restart(self) -> None:
        """Back to the very start (breakpoints are kept)."""
        self.goto(0)

    def goto_position(self, epoch: int, sample: int, op: int | str) -> None:
        """Move to the op ``op`` (index or name) of ``sample`` in ``epoch`` (0-based)."""
        if isinstance(op, str):
            op = self.program.by_name[op].index
        g = epoch * self.sample_count + sample
        self.goto(g * self.op_count + op + 1)

    # ------------------------------------------------------------------ breakpoints

    def toggle_breakpoint(self, name: str) -> bool:
        """Toggle a breakpoint on the op ``name``; returns whether it is now set."""
        if name not in self.program.by_name:
            raise KeyError(name)
        if name in self.breakpoints:
            self.breakpoints.discard(name)
        else:
            self.breakpoints.add(name)
        self._rebuild_hooks()
        return name in self.breakpoints

    def add_condition(self, text: str) -> Condition:
        """Add a condition breakpoint; raises FormulaError for a bad condition."""
        node = parse(text, self.program.slot, condition=True)
        cond = Condition(render(node), frozenset(names_in(node)), compile_numeric(node, self.program.slot), node)
        self.conditions.append(cond)
        self._rebuild_hooks()
        return cond

    def remove_condition(self, text: str) -> None:
        self.conditions = [c for c in self.conditions if c.text != text]
        self._rebuild_hooks()

    def clear_breakpoints(self) -> None:
        self.breakpoints.clear()
        self.conditions.clear()
        self._rebuild_hooks()

    def _rebuild_hooks(self) -> None:
        self._bp = [op.name in self.breakpoints for op in self.ops]
        self._hooks = [tuple(c for c in self.conditions if op.name in c.reads) for op in self.ops]

    # ------------------------------------------------------------------ running

    def run_until(self, target: int | None = None, *, breakpoints: bool = True,
                  cancel: Callable[[], bool] | None = None,
                  progress: Callable[[float], None] | None = None) -> Stop:
        """Run forward to ``target`` (default: the end), stopping at breakpoints,
        true conditions and (if switched on) the first non-finite value."""
        target = self.total if target is None else max(self.t, min(int(target), self.total))
        if self.t >= target:
            return Stop("end" if self.at_end else "target")
        K = self.op_count
        nonfinite = breakpoints and self.stop_on_nonfinite
        bp, hooks = self._bp, self._hooks
        checking = breakpoints and (any(bp) or any(hooks))
        v = self._v
        kernels = self.program.kernels
        start_t = self.t
        span = max(1, target - start_t)
        fast = not checking and not nonfinite
        # conditions and the non-finite check need not take every sample op by op:
        # generated code runs a whole sample and says whether it may stop in it
        watch = None if fast or any(bp) or not breakpoints else self._watcher(nonfinite)
        runner = self._runner if fast else watch
        while self.t < target:
            if self._k == K:
                self._enter_sample(self._g + 1, self._finish_sample_params())
            elif (self._k == 0 and runner is not None and target - self.t > K and self._plain(self._g)
                  and (new := runner(self._start, self._g % self.sample_count)) is not None):
                # a whole sample with more to come: the fast path, exact to the bit
                params = array("d", new)
                self._remember(self._g + 1, params)
                self._prev = None
                self._enter_sample(self._g + 1, params)
            else:
                end_k = min(K, target - self._g * K)
                if fast:
                    self._run_ops(end_k)
                    continue
                for k in range(self._k, end_k):
                    out, fn = kernels[k]
                    x = fn(v)
                    v[out] = x
                    if nonfinite and x - x != 0.0:
                        self._k = k + 1
                        return Stop("nonfinite", f"{self.ops[k].name} = {x}")
                    if checking:
                        if bp[k]:
                            self._k = k + 1
                            return Stop("breakpoint", self.ops[k].name)
                        for c in hooks[k]:
                            if c.test(v):
                                self._k = k + 1
                                return Stop("condition", c.text)
                self._k = end_k
                continue
            # at a sample boundary
            if cancel is not None and cancel():
                self._settle()
                return Stop("cancelled")
            if progress is not None and self._g % 16 == 0:
                progress((self.t - start_t) / span)
        return Stop("end" if self.at_end else "target")

    def _watcher(self, nonfinite: bool) -> Callable[[Sequence[float], int], list[float] | None] | None:
        """The generated whole-sample check for the current conditions and ``nonfinite``;
        None (take samples op by op) past the memory budget of :mod:`nnstep.fast`.  The
        last few are kept."""
        if not fused_fits(self.program):
            return None
        key = (tuple(c.text for c in self.conditions), nonfinite)
        if key not in self._watchers:
            conds = [(c.expr, c.reads) for c in self.conditions]
            while len(self._watchers) >= 4:
                del self._watchers[next(iter(self._watchers))]
            self._watchers[key] = fused(self.program).watcher(conds, nonfinite)
        return self._watchers[key]

    def _settle(self) -> None:
        """Stand on the last op of the finished sample rather than before the next one,
        the one way every position is represented."""
        if self._k == 0 and self._g > 0:
            self._enter_sample(self._g - 1)
            self._run_ops(self.op_count)

    def _boundary(self, unit: int) -> int:
        """The next multiple of ``unit`` ops strictly after t (or the end)."""
        return min(self.total, (self.t // unit + 1) * unit)

    def finish_phase(self, **kw) -> Stop:
        """Run to the last op of the phase the next op belongs to."""
        if self.at_end:
            return Stop("end")
        K = self.op_count
        base, k = ((self._g + 1) * K, 0) if self._k == K else (self._g * K, self._k)
        phase = self.ops[k].phase
        end = k
        while end < K and self.ops[end].phase == phase:
            end += 1
        return self.run_until(base + end, **kw)

    def finish_sample(self, **kw) -> Stop:
        return self.run_until(self._boundary(self.op_count), **kw)

    def finish_epoch(self, **kw) -> Stop:
        return self.run_until(self._boundary(self.op_count * self.sample_count), **kw)

    def run_to_end(self, **kw) -> Stop:
        return self.run_until(self.total, **kw)

    def run_to_op(self, name: str, **kw) -> Stop:
        """Run to the next time op ``name`` executes."""
        idx = self.program.by_name[name].index
        K = self.op_count
        t = self._g * K + idx + 1
        if t <= self.t:
            t += K
        return self.run_until(t, **kw)

    # ------------------------------------------------------------------ losses

    def epoch_loss(self, epoch: int) -> float:
        """Mean loss over all samples with the parameters after ``epoch`` (0-based)."""
        if epoch not in self._epoch_loss:
            params = self._params_at((epoch + 1) * self.sample_count)
            self._epoch_loss[epoch] = self._loss_of(params)
        return self._epoch_loss[epoch]

    @property
    def epochs_done(self) -> int:
        return self.t // (self.op_count * self.sample_count)

    def epoch_losses(self) -> list[float]:
        """Losses of the epochs completed so far."""
        return [self.epoch_loss(e) for e in range(self.epochs_done)]

    def sample_loss(self) -> float | None:
        return self.value(self.program.loss)

    def finite_difference(self, param: str, value: float | None = None) -> GradientCheck:
        """Check the chain rule's gradient of this sample's loss w.r.t. ``param`` (``value``,
        by default the current value of its gradient op) against a central difference of
        the loss at the sample's starting parameters: see :mod:`nnstep.gradcheck`."""
        if value is None:
            op = next(o for o in self.ops if o.kind == "total" and o.wrt == param)
            value = self.value(op.name)
            if value is None:
                raise ValueError(f"{op.name} is not computed yet at this position")
        program = self.program if self._plain_data(self._g) else _EditedData(self, self._g)
        return check_gradient(program, self._start, self.sample_index, param, value, self._scratch)  # type: ignore[arg-type]

    def _plain_data(self, g: int) -> bool:
        return not any(e.kind in ("input", "target") for e in self._by_sample.get(g, ()))

    # ------------------------------------------------------------------ what-if edits

    def editable(self) -> tuple[str, ...]:
        """The names :meth:`edit` can set: parameters, inputs, targets and ``learn_rate``."""
        p = self.program
        return (*p.parameters, *p.inputs, *p.targets, "learn_rate")

    def _kind(self, name: str) -> str:
        p = self.program
        if name in p.parameters:
            return "parameter"
        if name in p.inputs:
            return "input"
        if name in p.targets:
            return "target"
        if name == "learn_rate":
            return "learn_rate"
        op = p.by_name.get(name)
        if op is not None:
            raise EditError(f"{name} is computed by op {op.index + 1} ({op.code}); only a parameter, an input, "
                            "a target or learn_rate can be set", key=name)
        raise EditError(f"unknown name {name!r}; names that can be set: {', '.join(self.editable())}", key=name)

    @property
    def edited(self) -> bool:
        """Whether this run has what-if edits (exports and traces should say so)."""
        return bool(self.edits)

    def edit_summary(self) -> str:
        """The edits in one line, as a report would quote them: ``w5 = 0.5 at epoch 1, sample 1, op 24``
        (counting from 1); empty when the run is not edited."""
        return "; ".join(f"{e.name} = {e.text} ({e.value!r}) at {self.where(e)}" for e in self.edits)

    def where(self, e: Edit) -> str:
        """Where an edit was made, counting from 1."""
        epoch, sample = divmod(e.g, self.sample_count)
        return f"epoch {epoch + 1}, sample {sample + 1}, op {e.k}"

    def evaluate(self, text: str) -> float:
        """The value of a formula (safe language, names at their current values; nan
        where not computed yet) at the current position; raises FormulaError."""
        node = parse(text, self.program.slot)
        return compile_numeric(node, self.program.slot)(self._v)

    def edit(self, name: str, text: str) -> Edit:
        """Set ``name`` (a parameter, an input or target of the current sample, or
        ``learn_rate``) to the value of ``text`` evaluated now, from the start of the
        current sample; the ops this sample has run are run again from it and the
        position stays.  Raises :class:`EditError` or FormulaError."""
        kind = self._kind(name)
        node = parse(text, self.program.slot)
        value = compile_numeric(node, self.program.slot)(self._v)
        if not math.isfinite(value):
            raise EditError(f"{text.strip()} is {value} here (a name it reads is not computed yet, or it "
                            "overflows); a value must be a finite number", key=name)
        g = self._g
        old = self._start_value(name)
        e = Edit(g, self._k, name, kind, render(node), value, old)
        self.edits.append(e)
        self._index_edits()
        self._recompute_from(g)
        return e

    def undo_edit(self) -> Edit | None:
        """Remove the last edit made (None if there is none); the position stays and
        everything is exactly as if it had never been made."""
        if not self.edits:
            return None
        e = self.edits.pop()
        self._index_edits()
        self._recompute_from(e.g)
        return e

    def clear_edits(self) -> None:
        if self.edits:
            first = min(e.g for e in self.edits)
            self.edits.clear()
            self._index_edits()
            self._recompute_from(first)

    def _start_value(self, name: str) -> float:
        """``name`` at the start of the current sample (edits already made applied)."""
        if name in self.program.parameters:
            return self._start[self.program.parameters.index(name)]
        return self._v[self.program.slot[name]]

    def _index_edits(self) -> None:
        self._by_sample = {}
        for e in self.edits:
            self._by_sample.setdefault(e.g, []).append(e)
        self._lr_edits = sorted((e for e in self.edits if e.kind == "learn_rate"), key=lambda e: e.g)

    def _edited_start(self, g: int, params: array) -> array:
        """The parameters at the start of sample ``g``: ``params`` (after sample g-1)
        with the parameter edits made at ``g``."""
        edits = [e for e in self._by_sample.get(g, ()) if e.kind == "parameter"]
        if not edits:
            return params
        out = array("d", params)
        names = self.program.parameters
        for e in edits:
            out[names.index(e.name)] = e.value
        return out

    def _learn_rate(self, g: int) -> float | None:
        """The edited learning rate in force at sample ``g``, None if unedited there."""
        rate = None
        for e in self._lr_edits:
            if e.g > g:
                break
            rate = e.value
        return rate

    def _plain(self, g: int) -> bool:
        """Whether sample ``g`` runs on the file's data and learning rate (the fast
        whole-sample code can run it)."""
        if self._lr_edits and self._lr_edits[0].g <= g:
            return False
        return self._plain_data(g)

    def _override(self, g: int, v: list[float]) -> None:
        """Put sample ``g``'s edited inputs, targets and learning rate into loaded slots."""
        rate = self._learn_rate(g)
        if rate is not None:
            v[self.program.slot["learn_rate"]] = rate
        for e in self._by_sample.get(g, ()):
            if e.kind in ("input", "target"):
                v[self.program.slot[e.name]] = e.value

    def _recompute_from(self, g0: int) -> None:
        """The edits at sample ``g0`` or later changed: forget what was computed after the
        start of ``g0`` and rebuild the current position."""
        for store in (self._checkpoints, self._recent):
            for h in [h for h in store if h > g0]:
                del store[h]
        M = self.sample_count
        for e in [e for e in self._epoch_loss if (e + 1) * M > g0]:
            del self._epoch_loss[e]
        self._prev = None
        g, k = self._g, self._k
        self._enter_sample(g)
        self._run_ops(k)

    # ------------------------------------------------------------------ watches

    def watch(self, text: str) -> Watch:
        """A watch expression for this program (safe formula language, comparisons
        allowed); raises FormulaError.  Its value: :meth:`watch_value`."""
        node = parse(text, self.program.slot, condition=True)
        return Watch(render(node), frozenset(names_in(node)), compile_numeric(node, self.program.slot))

    def watch_value(self, w: Watch) -> float:
        """The watch's value now (nan where a name it reads is not computed yet)."""
        return w.evaluate(self._v)


__all__ = ["Condition", "Debugger", "Edit", "EditError", "PHASES", "Stop", "Watch"]
