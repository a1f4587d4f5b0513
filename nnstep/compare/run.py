""":func:`compare`: the learner's program run beside nnstep's reference."""

from __future__ import annotations

import builtins
import io
import sys
import types
from collections.abc import Sequence
from pathlib import Path

from ..build import build_program
from ..scenario import Scenario, load_scenario
from ..text import visible
from .comparer import Comparer
from .learner import comment_mapping, parse_mapping, read_program
from .results import LEARN_RATE_NAMES, MAX_SAMPLES, MAX_TRACED_LINES, CompareError, CompareResult, StopProgram
from .tracing import Tracer, assigned_lines
from .where import Where


class Output(io.TextIOBase):
    """Counts what the learner's program prints; keeps none of it."""

    def __init__(self) -> None:
        self.lines = 0
        self.partial = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        n = s.count("\n")
        self.lines += n
        self.partial = not s.endswith("\n") if s else self.partial
        return len(s)

    @property
    def total_lines(self) -> int:
        return self.lines + (1 if self.partial else 0)


def compare(program: str | Path, scenario: str | Path | Scenario | None = None, *, seed: int | None = None,
            epochs: int | None = None, samples: int | None = None, mapping: Sequence[str] = (),
            max_lines: int = MAX_TRACED_LINES) -> CompareResult:
    """Run the learner's ``program`` under the tracer and compare it with nnstep's
    reference for ``scenario``: by default one epoch of the learner's data."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if sc.graph is not None or len(sc.outputs) != 1:
        raise CompareError("compare needs a layered scenario with one output, as in the note", file=sc.source)
    base = build_program(sc)
    prog = read_program(program)
    known_names = [*base.inputs, *base.targets] + [op.name for op in base.ops] + ["learn_rate"]
    watch: dict[str, list[Where]] = {n: [Where(n, n), Where(f"self.{n}", "self", (("attr", n),))]
                                     for n in known_names}
    watch["learn_rate"] = [Where(n, n) for n in LEARN_RATE_NAMES] + [
        Where(f"self.{n}", "self", (("attr", n),)) for n in LEARN_RATE_NAMES]
    maps = comment_mapping(prog, known_names)
    for text in mapping:
        try:
            maps.update(parse_mapping(text, known_names))
        except CompareError as exc:
            raise exc.located(key="--map") from None
    for name, where in maps.items():
        watch[name] = [where]
    def limit(m: int) -> int:
        n = samples if samples is not None else (epochs or 1) * m
        return min(n, MAX_SAMPLES)

    tracer_known: dict[str, float] = {}
    comparer = Comparer(prog, sc, base, tracer_known, limit, sc.seed if seed is None else seed)
    tracer = Tracer(prog.filename, watch, comparer.on_event, max_lines, assigned_lines(prog.source))
    tracer.known = tracer_known
    out = Output()
    raised: BaseException | None = None
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": prog.filename, "__builtins__": builtins, "__cached__": None})
    saved = (sys.argv, list(sys.path), sys.modules.get("__main__"), sys.stdin, sys.stdout, sys.stderr,
             sys.gettrace())
    sys.argv = [prog.path]
    sys.path.insert(0, str(Path(prog.filename).parent))
    sys.modules["__main__"] = main
    sys.stdin = io.StringIO("")
    sys.stdout = sys.stderr = out  # type: ignore[assignment]
    try:
        sys.settrace(tracer.global_trace)
        try:
            exec(prog.code, main.__dict__)
        finally:
            sys.settrace(saved[6])
        comparer.end()
    except StopProgram:
        pass
    except SystemExit:
        try:
            comparer.end()
        except StopProgram:
            pass
    except BaseException as exc:  # noqa: BLE001 - the learner's exception, reported with its line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raised = exc
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        if saved[2] is not None:
            sys.modules["__main__"] = saved[2]
        sys.stdin, sys.stdout, sys.stderr = saved[3], saved[4], saved[5]
    if tracer.internal is not None:
        raise tracer.internal
    if tracer.too_long and comparer.difference is None:
        raise CompareError(f"stopped after {max_lines:,} traced lines without finishing the samples asked for",
                           file=prog.path)
    if raised is not None and comparer.difference is None:
        line = _raised_line(raised, prog.filename)
        what = f"{type(raised).__name__}: {visible(raised)}" if str(raised) else type(raised).__name__
        after = f" (after {comparer.compared} values agreed)" if comparer.compared else ""
        raise CompareError(f"your program raised {what}{after}", file=prog.path, line=line)
    if comparer.ref is None:
        if not comparer.any_event:
            shown = ", ".join(op.name for op in base.ops[:6])
            raise CompareError(f"your program never assigns any of nnstep's names ({shown}, …); "
                               "name them as nnstep does, or map yours with --map or '# nnstep: NAME' comments",
                               file=prog.path)
        raise CompareError("your program assigns forward values but no training step: no gradient "
                           "(d_L_d_…) and no parameter update was seen", file=prog.path)
    ref = comparer.ref
    # what the compared samples never assigned (only known once a sample was complete)
    missing: list[str] = []
    if comparer.done:
        missing = [op.name for op in base.ops if op.kind != "update" and op.name not in comparer.assigned]
    missing += [p for p in comparer.params if p not in comparer.found_params]
    if "learn_rate" not in tracer_known:
        missing.append("learn_rate")
    wanted = limit(len(ref.rows))
    return CompareResult(
        program=prog.path, scenario=sc.name, compared=comparer.compared, samples=comparer.done,
        sample_count=len(ref.rows), missing=missing, first_difference=comparer.difference,
        data_source=comparer.data_source, learn_rate=ref.scenario.learning_rate,
        output_lines=out.total_lines,
        ended_early=comparer.difference is None and comparer.done < wanted,
        reference=ref.scenario, source=prog.source, yours=comparer.record, lines=comparer.lines)


def _raised_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
