"""Events into training samples, each compared with the reference as it comes."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable

from ..build import build_program
from ..program import Program
from ..scenario import Sample, Scenario
from ..text import visible
from .hints import Hints
from .learner import LearnerProgram
from .reference import Reference, TrainingSample, find_data
from .results import MAX_RECORDED_SAMPLES, Difference, StopProgram, same, values_agree
from .tracing import Event


class Comparer:
    """Turns events into training samples and compares them with the reference."""

    def __init__(self, prog: LearnerProgram, scenario: Scenario, base: Program, tracer_known: dict[str, float],
                 limit: Callable[[int], int], seed: int) -> None:
        self.prog = prog
        self.seed = seed
        self.scenario = scenario
        self.base = base
        self.known = tracer_known
        self.limit = limit
        self.kinds: dict[str, str] = {n: "forward" for n in (*base.inputs, *base.targets)}
        for op in base.ops:
            if op.kind == "update":
                self.kinds[op.name] = "param"
            elif op.phase in ("forward", "loss"):
                self.kinds[op.name] = "forward"
            else:
                self.kinds[op.name] = "backward"
        self.params = list(base.parameters)
        self.buffer: list[Event] = []
        self.cur: TrainingSample | None = None
        self.ref: Reference | None = None
        self.next_params: list[float] | None = None
        self.done = 0  # samples completely compared
        self.compared = 0
        self.assigned: set[str] = set()
        self.difference: Difference | None = None
        self.finished = False  # the requested samples were compared
        self.any_event = False
        self.data_source = "the scenario's samples"
        self.learn_rate = scenario.learning_rate
        self.found_params: set[str] = set()
        self.start_params: list[float] = []
        self.record: dict[int, dict[str, tuple[float, int | None]]] = {}  # recent samples' values
        self.lines: dict[str, int] = {}
        self.now: dict[str, float] = {}  # the learner's parameters as they are now

    # -- events

    def on_event(self, ev: Event) -> None:
        kind = self.kinds.get(ev.name)
        if kind is None:
            return
        self.any_event = True
        cur = self.cur
        if kind == "forward":
            if cur is not None and (cur.updated or ev.name in cur.seen):
                self.close()
                cur = None
            if cur is None:
                for k, b in enumerate(self.buffer):
                    if b.name == ev.name:
                        del self.buffer[: k + 1]
                        break
                self.buffer.append(ev)
            else:
                self.check(ev)
        elif kind == "backward":
            if cur is not None and cur.updated and ev.name in cur.seen:
                self.close()
                cur = None
            if cur is None:
                self.commit(ev)
            self.check(ev)
        else:
            prev = self.now.get(ev.name)
            if prev is not None and same(prev, ev.value) and (
                    not ev.assigned or cur is None or ev.name in cur.updated):
                # not an update: a line that changed its container, or a copy (an evaluation's
                # locals); an update too small to change the value is still one
                return
            if cur is None:
                if not self.buffer:
                    self.now[ev.name] = ev.value
                    return  # initialisation, not training
                self.commit(ev)
            self.check(ev)

    # -- samples

    def commit(self, ev: Event) -> None:
        if self.ref is None:
            self.ref = self.start(ev.frame)
        ref = self.ref
        M = len(ref.rows)
        g = self.done
        i = g % M
        start = self.next_params if self.next_params is not None else self.start_params
        self.cur = TrainingSample(g, i, list(start), ref.values(start, i))
        for p, value in zip(self.params, start):
            self.now.setdefault(p, value)  # the learner's own values stay (they differ in the last bits)
        buffered, self.buffer = self.buffer, []
        for b in buffered:
            self.check(b)

    def start(self, frame: types.FrameType) -> Reference:
        """Training starts: take the learner's parameters, learning rate and data."""
        params = []
        given = self.scenario.initial_parameters(self.seed)
        for p in self.params:
            value = self.now.get(p, self.known.get(p))
            if value is not None:
                self.found_params.add(p)
            params.append(given[p] if value is None else value)
        self.start_params = params
        if "learn_rate" in self.known:
            self.learn_rate = self.known["learn_rate"]
        rows = find_data(frame, len(self.scenario.inputs), len(self.scenario.outputs), self.prog.filename)
        samples = self.scenario.samples
        if rows is not None:
            X, Y, names = rows
            data = list(zip(X, Y))
            if [(s.x, s.y) for s in samples] == data:
                self.data_source = f"your {names[0]} and {names[1]} (the scenario's samples)"
            else:
                samples = tuple(Sample(f"#{k + 1}", x, y) for k, (x, y) in enumerate(data))
                self.data_source = f"your {names[0]} and {names[1]}"
        sc = dataclasses.replace(self.scenario, samples=samples, learning_rate=self.learn_rate,
                                 given=dict(zip(self.params, params)))
        program = build_program(sc)
        return Reference(sc, program, [(s.x, s.y) for s in samples])

    def close(self) -> None:
        """The current sample is over: every parameter found must have been updated."""
        cur = self.cur
        assert cur is not None and self.ref is not None
        prog = self.ref.program
        for p in self.params:
            old = cur.start[self.params.index(p)]
            if p in self.found_params and p not in cur.updated and not values_agree(old, cur.v[prog.slot[p]]):
                line = cur.last_update_line or cur.last_line
                self.differ(p, old, line, missing_update=True)
        self.cur = None
        self.done += 1
        self.next_params = self.ref.program.params_of(cur.v)
        if self.done >= self.limit(len(self.ref.rows)):
            self.finished = True
            raise StopProgram

    def end(self) -> None:
        """The program finished: close a sample that was complete."""
        if self.cur is not None:
            self.close()

    # -- comparing

    def check(self, ev: Event) -> None:
        cur = self.cur
        assert cur is not None and self.ref is not None
        prog = self.ref.program
        cur.seen.add(ev.name)
        self.assigned.add(ev.name)
        cur.last_line = ev.line
        if cur.g not in self.record:
            self.record[cur.g] = {}
            if len(self.record) > MAX_RECORDED_SAMPLES:
                del self.record[min(self.record)]
        self.record[cur.g][ev.name] = (ev.value, ev.line)
        if ev.line is not None:
            self.lines[ev.name] = ev.line
        expected = cur.v[prog.slot[ev.name]]
        if self.kinds[ev.name] == "param":
            cur.updated[ev.name] = self.now[ev.name] = ev.value
            cur.last_update_line = ev.line
        if values_agree(ev.value, expected):
            self.compared += 1
            return
        self.differ(ev.name, ev.value, ev.line)

    def differ(self, name: str, yours: float, line: int | None, *, missing_update: bool = False) -> None:
        cur = self.cur
        assert cur is not None and self.ref is not None
        prog = self.ref.program
        op = prog.by_name.get(name)
        expected = cur.v[prog.slot[name]]
        sample = self.ref.scenario.samples[cur.i]
        if op is None:  # an input or the target: data, not a formula
            what = "target" if name in prog.targets else "input"
            nnstep_code = f"{name} = {expected!r}  (the {what} of sample {cur.i + 1}, {visible(sample.name)})"
            formula = ""
            hint = Hints(self.ref, cur, self.params, self.known).other_sample(name, yours)
        else:
            values = dict(zip(prog.slot, cur.v))
            values.update(zip(self.params, cur.start))  # an update's right side reads the old values
            from ..symbolic import one_line, shared_symbolic

            nnstep_code = op.code
            formula = one_line(shared_symbolic(prog).substituted(op, values))
            if missing_update:
                hint = (f"{name} is never updated in this sample: a missing update "
                        f"(nnstep's line: {op.code})")
            else:
                hint = Hints(self.ref, cur, self.params, self.known).hint(op, yours, expected)
                if hint.startswith("σ′") and line is not None:
                    helpers = [h for h in self.prog.called_functions(line) if h[0] != "sigmoid"]
                    if helpers:
                        hint += "; your line calls " + ", ".join(f"{n}() (defined on line {ln})"
                                                                for n, ln in helpers)
        M = len(self.ref.rows)
        self.difference = Difference(
            name=name, epoch=cur.g // M + 1, sample=cur.i + 1, sample_name=visible(sample.name),
            line=line, code=self.prog.line_text(line), yours=yours, expected=expected,
            nnstep_code=nnstep_code, formula=formula, hint=hint, missing_update=missing_update)
        raise StopProgram
