"""``nnstep compare``: run the learner's own training program beside nnstep's and
name the first line where a value parts from the right one.

The learner's program is *executed* (it is their file, run on their request; a
scenario file, by contrast, never runs anything).  It runs in a fresh ``__main__``
namespace under :func:`sys.settrace`, watching only the frames of that file.  After
every line, the values of the names nnstep knows (the scenario's op names such as
``sum_h1`` or ``d_L_d_ypred``, and its parameters ``w1``…, as locals, globals or
attributes such as ``self.w1``) are looked at; each change is an *event*
``(name, value, line)``.

Events are grouped into training samples: forward values are held back until a
gradient or an update shows that they belong to a training step (an evaluation
pass, such as the note's ``feedforward`` over the whole data set every 10 epochs,
assigns forward names only and is never taken for training).  At the first
training step the learner's parameters, learning rate and data set are taken as
they are, nnstep's reference is built from exactly those, and every later value
is compared with it (relative tolerance 1e-9).  The program is stopped at the
first difference, or after the requested number of samples.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import difflib
import io
import math
import re
import sys
import tokenize
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .build import build_program
from .errors import NNStepError
from .program import Op, Program
from .scenario import Sample, Scenario, load_scenario
from .text import visible

#: Values agree when they are this close, relatively (or absolutely, near zero).
REL_TOL = 1e-9
ABS_TOL = 1e-12
#: Bounds on what a program can make nnstep do.
MAX_PROGRAM_BYTES = 2_000_000
MAX_TRACED_LINES = 2_000_000
MAX_SAMPLES = 1_000_000
MAX_DATA_ROWS = 20_000
MAX_HINT_SAMPLES = 64
MAX_RECORDED_SAMPLES = 256  # the learner's values kept for the TUI
#: Names the learning rate is looked for under (the first that is found).
LEARN_RATE_NAMES = ("learn_rate", "learning_rate", "lr")


class CompareError(NNStepError):
    """A program that cannot be compared: missing, not Python, raised, or silent."""


class _Stop(BaseException):
    """Raised from the tracer to stop the learner's program (not an ``Exception``,
    so that their ``except Exception`` does not swallow it)."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Difference:
    """The first value that parts from nnstep's."""

    name: str  # nnstep's name of the quantity
    epoch: int  # from 1
    sample: int  # from 1, within the epoch
    sample_name: str
    line: int | None  # in the learner's file
    code: str  # the learner's line, as written (made visible)
    yours: float
    expected: float
    nnstep_code: str  # nnstep's line for the quantity: d_L_d_ypred = -2 * (y_true - y_pred)
    formula: str  # the formula with this sample's numbers: -2·1.0 + 2·0.493689
    hint: str  # "" when no common mistake explains it
    missing_update: bool = False  # the parameter was never updated in the sample


@dataclass
class CompareResult:
    program: str  # the path as given
    scenario: str  # the scenario's name
    compared: int  # values that agreed
    samples: int  # training samples compared completely
    sample_count: int  # samples in one epoch of the data
    missing: list[str]  # nnstep names the program never assigned in the compared samples
    first_difference: Difference | None
    data_source: str  # where the data came from
    learn_rate: float
    output_lines: int = 0  # lines the program printed (kept out of the report)
    ended_early: bool = False  # the program finished before the requested samples
    #: for the TUI: the reference scenario (the learner's parameters, rate and data), the
    #: learner's source, and their values per global sample index (0-based): name -> (value, line)
    reference: Scenario | None = None
    source: str = ""
    yours: dict[int, dict[str, tuple[float, int | None]]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # name -> the line that last assigned it

    @property
    def difference_position(self) -> tuple[int, int] | None:
        """(epoch, sample), 0-based, of the first difference."""
        d = self.first_difference
        return None if d is None else (d.epoch - 1, d.sample - 1)

    @property
    def agree(self) -> bool:
        return self.first_difference is None

    def to_json(self) -> dict[str, Any]:
        d = self.first_difference
        diff = None if d is None else {
            "name": d.name, "epoch": d.epoch, "sample": d.sample, "sample_name": d.sample_name,
            "line": d.line, "code": d.code, "yours": _json_number(d.yours),
            "expected": _json_number(d.expected),
            "formula": f"{d.nnstep_code} = {d.formula}" if d.formula else d.nnstep_code,
            "hint": d.hint or None,
        }
        return {"agree": self.agree, "compared": self.compared, "samples": self.samples,
                "missing": list(self.missing), "first_difference": diff}


def _json_number(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


# --------------------------------------------------------------------------- where a name lives


@dataclass(frozen=True)
class Where:
    """Where a value lives in the learner's program: ``h1``, ``self.w1``, ``self.W1[0, 1]``."""

    text: str
    root: str
    steps: tuple[tuple[str, Any], ...] = ()  # ("attr", "W1") or ("item", (0, 1))

    @property
    def indexed(self) -> bool:
        return any(kind == "item" for kind, _ in self.steps)


def parse_where(text: str) -> Where:
    """Parse a mapping target; only names, attributes and constant integer indexes."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise CompareError(f"'{visible(text)}' is not a name such as dL_dy, self.w1 or self.W1[0, 1]") from None
    steps: list[tuple[str, Any]] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute) and not node.attr.startswith("__"):
            steps.append(("attr", node.attr))
            node = node.value
        elif isinstance(node, ast.Subscript):
            steps.append(("item", _index(node.slice, text)))
            node = node.value
        else:
            raise CompareError(f"'{visible(text)}' is not a name such as dL_dy, self.w1 or self.W1[0, 1]")
    return Where(ast.unparse(ast.parse(text.strip(), mode="eval").body), node.id, tuple(reversed(steps)))


def _index(node: ast.expr, text: str) -> int | tuple[int, ...]:
    def one(n: ast.expr) -> int:
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -one(n.operand)
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return n.value
        raise CompareError(f"'{visible(text)}': an index must be a whole number such as [0] or [0, 1]")

    if isinstance(node, ast.Tuple):
        return tuple(one(e) for e in node.elts)
    return one(node)


def _number(v: Any) -> float | None:
    """A real number as float, else None (NumPy scalars and one-element arrays included)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:
            return None
    dtype = getattr(type(v), "dtype", None) and getattr(v, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in ("f", "i", "u") and getattr(v, "size", 0) == 1:
        try:
            return float(v.item())
        except (TypeError, ValueError, OverflowError, AttributeError):
            return None
    return None


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def values_agree(a: float, b: float) -> bool:
    """Whether the learner's value ``a`` agrees with nnstep's ``b`` (relative 1e-9)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


_close = values_agree


# --------------------------------------------------------------------------- the learner's program


@dataclass
class LearnerProgram:
    """The learner's file, read and compiled (not yet run)."""

    path: str
    source: str
    code: types.CodeType
    filename: str  # the code's co_filename

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def called_functions(self, line: int) -> list[tuple[str, int]]:
        """The functions defined in the program that the statement on ``line`` calls,
        with the line of their ``def``."""
        tree = ast.parse(self.source)
        defs = {n.name: n.lineno for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        out: list[tuple[str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                     ast.ClassDef, ast.For, ast.While, ast.If,
                                                                     ast.With, ast.Try)) \
                    and node.lineno <= line <= (node.end_lineno or node.lineno):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in defs \
                            and (call.func.id, defs[call.func.id]) not in out:
                        out.append((call.func.id, defs[call.func.id]))
        return out

    def line_text(self, line: int | None) -> str:
        if line is None or not 1 <= line <= len(self.lines):
            return ""
        return visible(self.lines[line - 1].strip())


def read_program(path: str | Path) -> LearnerProgram:
    """Read and compile the learner's program; one clear error when that fails."""
    label = str(path)
    p = Path(path)
    if not p.exists():
        raise CompareError("no such file", file=label)
    if not p.is_file():
        raise CompareError("not a file", file=label)
    try:
        size = p.stat().st_size
        if size > MAX_PROGRAM_BYTES:
            raise CompareError(f"{size:,} bytes: larger than the {MAX_PROGRAM_BYTES:,} bytes a program may have",
                               file=label)
        data = p.read_bytes()
    except OSError as exc:
        raise CompareError(f"cannot read it: {exc.strerror or exc}", file=label) from None
    try:
        from importlib.util import decode_source

        source = decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        raise CompareError("not a Python program: it is not text in a Python source encoding", file=label) from None
    filename = str(p.resolve())
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CompareError(f"not a Python program: {visible(exc.msg)}", file=label, line=exc.lineno) from None
    except ValueError as exc:  # null bytes on Python 3.11
        raise CompareError(f"not a Python program: {visible(exc)}", file=label) from None
    return LearnerProgram(label, source, code, filename)


def comment_mapping(prog: LearnerProgram, known: Iterable[str]) -> dict[str, Where]:
    """Mappings written in the program: ``dL_dy = ...  # nnstep: d_L_d_ypred`` names the
    assignment's target; ``# nnstep: w1=self.W1[0, 0], b1=self.B1[0]`` maps explicitly."""
    known = set(known)
    found: dict[str, Where] = {}
    targets: dict[int, list[str]] = {}
    for node in ast.walk(ast.parse(prog.source)):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            tgts = node.targets if isinstance(node, ast.Assign) else [node.target]
            for ln in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                targets.setdefault(ln, []).extend(ast.unparse(t) for t in tgts)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(prog.source).readline))
    except (tokenize.TokenError, SyntaxError):  # compiled fine, so this should not happen
        return found
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        m = re.match(r"#\s*nnstep\s*:\s*(.*)$", tok.string)
        if not m:
            continue
        line = tok.start[0]
        body = m.group(1).strip()
        try:
            if "=" in body:
                pairs = parse_mapping(body, known)
            else:
                name = _known_name(body, known)
                tgt = [t for t in targets.get(line, []) if _plain_target(t)]
                if len(tgt) != 1:
                    raise CompareError(f"'# nnstep: {visible(body)}' must be on a line that assigns one name")
                pairs = {name: parse_where(tgt[0])}
        except CompareError as exc:
            raise exc.located(file=prog.path, line=line) from None
        found.update(pairs)
    return found


def _plain_target(text: str) -> bool:
    try:
        parse_where(text)
    except CompareError:
        return False
    return True


def parse_mapping(text: str, known: Iterable[str]) -> dict[str, Where]:
    """``d_L_d_ypred=dL_dy, w1=self.W1[0, 1]``: nnstep name = where it lives in the program."""
    known = set(known)
    out: dict[str, Where] = {}
    for part in re.split(r",\s*(?=[A-Za-z_]\w*\s*=)", text.strip()):
        if not part.strip():
            continue
        name, eq, where = part.partition("=")
        if not eq or not where.strip():
            raise CompareError(f"'{visible(part.strip())}' should be NNSTEP_NAME=YOUR_NAME, e.g. d_L_d_ypred=dL_dy")
        out[_known_name(name.strip(), known)] = parse_where(where)
    return out


def _known_name(name: str, known: set[str]) -> str:
    if name in known:
        return name
    close = difflib.get_close_matches(name, sorted(known), n=1)
    extra = f"; did you mean '{close[0]}'?" if close else ""
    raise CompareError(f"'{visible(name)}' is not one of nnstep's names for this scenario{extra}")


# --------------------------------------------------------------------------- tracing


@dataclass
class _Event:
    name: str
    value: float
    old: float | None  # the value it had before, if seen
    line: int | None
    frame: types.FrameType
    assigned: bool = False  # the line's statement assigns exactly this (not just its container)


class _Tracer:
    """Watches the learner's frames line by line and reports changed values."""

    def __init__(self, filename: str, watch: dict[str, list[Where]], on_event: Callable[[_Event], None],
                 max_lines: int, assigned: dict[int, frozenset[str]]) -> None:
        self.filename = filename
        # grouped by the variable they start from, in a fixed order (events of one line
        # come in that order)
        self.by_root: dict[str, list[tuple[str, Where, frozenset[str]]]] = {}
        for name, ws in watch.items():
            for w in ws:
                self.by_root.setdefault(w.root, []).append((name, w, _prefixes(w.text)))
        self.roots = frozenset(self.by_root)
        # watches that start with an attribute, by that attribute (self.w1 -> "w1"), so that
        # only the attributes an object has are looked at
        self.by_attr: dict[str, dict[str, list[tuple[int, str, Where, frozenset[str]]]]] = {}
        self.other: dict[str, list[tuple[int, str, Where, frozenset[str]]]] = {}
        for root, entries in self.by_root.items():
            for k, (name, w, prefixes) in enumerate(entries):
                if w.steps and w.steps[0][0] == "attr":
                    self.by_attr.setdefault(root, {}).setdefault(w.steps[0][1], []).append((k, name, w, prefixes))
                else:
                    self.other.setdefault(root, []).append((k, name, w, prefixes))
        self.root_order = {r: k for k, r in enumerate(self.by_root)}
        self.assigned = assigned  # line -> what its statement assigns (an assignment of an equal value counts)
        self.internal: BaseException | None = None
        self.class_attrs: dict[type, frozenset[str]] = {}
        self.on_event = on_event
        self.max_lines = max_lines
        self.lines = 0
        self.last_line: dict[int, int] = {}
        self.frame_snap: dict[int, dict[str, tuple[Any, float]]] = {}
        self.shared: dict[tuple, tuple[Any, Any, float]] = {}  # key -> (keep-alive, object, value)
        self.known: dict[str, float] = {}  # latest value of every watched name seen anywhere
        self.too_long = False

    def global_trace(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != self.filename:
            return None
        self.frame_snap[id(frame)] = {}
        self._scan(frame, None, emit=False)
        self.last_line[id(frame)] = frame.f_lineno
        return self.local_trace

    def local_trace(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines += 1
            if self.lines > self.max_lines:
                self.too_long = True
                raise _Stop
            self._scan(frame, self.last_line.get(id(frame)), emit=True)
            self.last_line[id(frame)] = frame.f_lineno
        elif event == "return":
            self._scan(frame, frame.f_lineno, emit=True)
            self.frame_snap.pop(id(frame), None)
            self.last_line.pop(id(frame), None)
        return self.local_trace

    def _scan(self, frame: types.FrameType, line: int | None, *, emit: bool) -> None:
        f_locals = frame.f_locals
        f_globals = frame.f_globals
        module_level = f_locals is f_globals
        snap = self.frame_snap.setdefault(id(frame), {})
        assigned = self.assigned.get(line, frozenset()) if emit and line is not None else frozenset()
        present = self.roots.intersection(f_locals)
        if not module_level:
            present |= self.roots.intersection(f_globals)
        for root_name in sorted(present, key=self.root_order.__getitem__):
            in_locals = root_name in f_locals
            root = f_locals[root_name] if in_locals else f_globals[root_name]
            try:
                attrs = root.__dict__ if not isinstance(root, (int, float)) else None
            except Exception:  # noqa: BLE001 - a learner's object may refuse anything
                attrs = None
            if not isinstance(attrs, dict):
                attrs = None
            if attrs is not None:
                cls = type(root)
                on_class = self.class_attrs.get(cls)
                if on_class is None:
                    on_class = self.class_attrs[cls] = frozenset(dir(cls))
            local_root = in_locals and not module_level
            entries = self.other.get(root_name, [])
            groups = self.by_attr.get(root_name)
            if groups:
                if attrs is not None:
                    has = (groups.keys() & attrs.keys()) | (groups.keys() & on_class)
                else:
                    has = list(groups)
                if has:
                    entries = sorted(entries + [e for a in has for e in groups[a]], key=lambda e: e[0])
            for _, name, w, prefixes in entries:
                if local_root and not w.steps and not assigned:
                    # fast path: the same immutable number as before in this frame
                    prev = snap.get(w.text)
                    if prev is not None and prev[0] is root and isinstance(root, (int, float)):
                        continue
                self._look(frame, name, w, prefixes, root, local_root, snap, assigned, line, emit)

    def _look(self, frame: types.FrameType, name: str, w: Where, prefixes: frozenset[str], root: Any,
              local_root: bool, snap: dict, assigned: frozenset[str], line: int | None, emit: bool) -> None:
        """Compare one watched value with what was seen before; report a change."""
        f_globals = frame.f_globals
        forced = bool(assigned) and not assigned.isdisjoint(prefixes)
        local = local_root and not w.steps
        if not w.steps:
            obj = root
        else:
            try:
                obj = root
                for kind, arg in w.steps:
                    obj = getattr(obj, arg) if kind == "attr" else obj[arg]
            except Exception:  # noqa: BLE001 - a learner's object may refuse anything
                return
        value = _number(obj)
        if value is None:
            return
        if local:
            prev = snap.get(w.text)
            if prev is not None and prev[0] is obj and _same(prev[1], value) and not forced:
                return
            snap[w.text] = (obj, value)
            old = None if prev is None else prev[1]
        else:
            key = (id(f_globals), w.text) if not w.steps else (id(root), w.text)
            hit = self.shared.get(key)
            if hit is not None and hit[0] is (f_globals if not w.steps else root) and _same(hit[2], value) \
                    and (w.indexed or hit[1] is obj) and not forced:
                return
            self.shared[key] = (f_globals if not w.steps else root, obj, value)
            old = None if hit is None else hit[2]
        self.known[name] = value
        if emit:
            try:
                self.on_event(_Event(name, value, old, line, frame, w.text in assigned))
            except _Stop:
                raise
            except Exception as exc:  # a bug in nnstep, not in the learner's program
                self.internal = exc
                raise _Stop from exc


def _prefixes(text: str) -> frozenset[str]:
    """``self.W1[0, 1]`` -> {``self``, ``self.W1``, ``self.W1[0, 1]``}."""
    node: ast.expr = ast.parse(text, mode="eval").body
    out = set()
    while True:
        out.add(ast.unparse(node))
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            return frozenset(out)


def assigned_lines(source: str) -> dict[int, frozenset[str]]:
    """For each line, the targets its statement assigns (``x``, ``self.w1``, ``self.B``
    for ``self.B[:2] -= ...``), so that an assignment is seen even when it stores an
    equal value (a target that repeats, ``y_true = 1`` twice)."""
    found: dict[int, set[str]] = {}

    def targets(t: ast.expr) -> Iterable[str]:
        if isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                yield from targets(e)
        elif isinstance(t, ast.Starred):
            yield from targets(t.value)
        elif isinstance(t, (ast.Name, ast.Attribute, ast.Subscript)):
            yield ast.unparse(t)
            if isinstance(t, ast.Subscript) and not isinstance(t.slice, (ast.Constant, ast.Tuple, ast.UnaryOp)):
                yield ast.unparse(t.value)  # a slice assigns to the whole container

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            tgts, first, last = node.targets, node.lineno, node.end_lineno or node.lineno
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            tgts, first, last = [node.target], node.lineno, node.end_lineno or node.lineno
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            tgts, first, last = [node.target], node.lineno, node.target.end_lineno or node.lineno
        elif isinstance(node, ast.NamedExpr):
            tgts, first, last = [node.target], node.lineno, node.end_lineno or node.lineno
        else:
            continue
        names = [n for t in tgts for n in targets(t)]
        for ln in range(first, last + 1):
            found.setdefault(ln, set()).update(names)
    return {ln: frozenset(v) for ln, v in found.items()}


# --------------------------------------------------------------------------- the reference


@dataclass
class _Reference:
    scenario: Scenario
    program: Program
    rows: list[tuple[tuple[float, ...], tuple[float, ...]]]

    def values(self, params: Sequence[float], i: int, *, x: Sequence[float] | None = None,
               y: Sequence[float] | None = None) -> list[float]:
        """Every slot after one training step of sample ``i`` (0-based) from ``params``;
        ``x``/``y`` replace the sample's inputs/targets (for hints)."""
        prog = self.program
        v = prog.new_slots()
        prog.load(v, params, i)
        if x is not None:
            for n, xv in zip(prog.inputs, x):
                v[prog.slot[n]] = xv
        if y is not None:
            for n, yv in zip(prog.targets, y):
                v[prog.slot[n]] = yv
        prog.run(v)
        return v


@dataclass
class _Sample:
    g: int  # global 0-based sample index
    i: int  # index in the data
    start: list[float]
    v: list[float]
    seen: set[str] = field(default_factory=set)
    updated: dict[str, float] = field(default_factory=dict)
    last_update_line: int | None = None
    last_line: int | None = None


class _Comparer:
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
        self.buffer: list[_Event] = []
        self.cur: _Sample | None = None
        self.ref: _Reference | None = None
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

    def on_event(self, ev: _Event) -> None:
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
            if prev is not None and _same(prev, ev.value) and (
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

    def commit(self, ev: _Event) -> None:
        if self.ref is None:
            self.ref = self.start(ev.frame)
        ref = self.ref
        M = len(ref.rows)
        g = self.done
        i = g % M
        start = self.next_params if self.next_params is not None else self.start_params
        self.cur = _Sample(g, i, list(start), ref.values(start, i))
        for p, value in zip(self.params, start):
            self.now.setdefault(p, value)  # the learner's own values stay (they differ in the last bits)
        buffered, self.buffer = self.buffer, []
        for b in buffered:
            self.check(b)

    def start(self, frame: types.FrameType) -> _Reference:
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
        rows = _find_data(frame, len(self.scenario.inputs), len(self.scenario.outputs), self.prog.filename)
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
        return _Reference(sc, program, [(s.x, s.y) for s in samples])

    def close(self) -> None:
        """The current sample is over: every parameter found must have been updated."""
        cur = self.cur
        assert cur is not None and self.ref is not None
        prog = self.ref.program
        for p in self.params:
            old = cur.start[self.params.index(p)]
            if p in self.found_params and p not in cur.updated and not _close(old, cur.v[prog.slot[p]]):
                line = cur.last_update_line or cur.last_line
                self.differ(p, old, line, missing_update=True)
        self.cur = None
        self.done += 1
        self.next_params = self.ref.program.params_of(cur.v)
        if self.done >= self.limit(len(self.ref.rows)):
            self.finished = True
            raise _Stop

    def end(self) -> None:
        """The program finished: close a sample that was complete."""
        if self.cur is not None:
            self.close()

    # -- comparing

    def check(self, ev: _Event) -> None:
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
        if _close(ev.value, expected):
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
            hint = self.other_sample(name, yours)
        else:
            values = dict(zip(prog.slot, cur.v))
            values.update(zip(self.params, cur.start))  # an update's right side reads the old values
            from .symbolic import Symbolic, one_line

            nnstep_code = op.code
            formula = one_line(Symbolic(prog).substituted(op, values))
            if missing_update:
                hint = (f"{name} is never updated in this sample: a missing update "
                        f"(nnstep's line: {op.code})")
            else:
                hint = self.hint(op, yours, expected)
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
        raise _Stop

    def hint(self, op: Op, yours: float, expected: float) -> str:
        cur, ref = self.cur, self.ref
        assert cur is not None and ref is not None
        prog = ref.program
        slot = prog.slot
        if op.kind == "update":
            return self.update_hint(op, yours)
        if expected != 0 and _close(yours, -expected):
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
                    if _close(yours, expected / ds * alt):
                        return f"σ′ written wrong: your value fits {what}; σ′(s) = σ(s)·(1 − σ(s))"
        if op.kind == "total":
            swapped = self.swapped_factor(op.terms, yours, cur.v)
            if swapped:
                return swapped
        if expected != 0:
            for factor, what in ((0.5, "a factor 2 is missing"), (2.0, "a factor 2 too many")):
                if _close(yours, expected * factor):
                    return what
        # computed from a parameter already updated in this sample?
        if cur.updated and op.kind in ("partial", "total", "sum", "activation", "alias", "loss"):
            v = list(cur.v)
            first = slot[self.params[0]]
            v[first:first + len(self.params)] = cur.start
            for p, val in cur.updated.items():
                v[slot[p]] = val
            out, fn = prog.kernels[op.index]
            if _close(yours, fn(v)):
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
        if _close(yours, old):
            return f"{p} did not change: a missing update"
        step = (old - yours) / lr  # what the learner's update multiplied learn_rate by
        if g == 0:
            return ""
        theirs = self.known.get("learn_rate")
        if theirs is not None and not _close(theirs, lr) and _close(step * lr, theirs * g):
            return f"your learning rate is {theirs!r} here, not {lr!r} as when training started"
        for f in (0.5, 2.0):
            if _close(step, f * g):
                return (f"an update with the wrong factor: your step is {f:g} × learn_rate × {grad_name}, "
                        f"not learn_rate × {grad_name}")
        if _close(step, -g):
            return "the update goes the wrong way: += where -= belongs, or the gradient's sign"
        if _close(step, lr * g):
            return "the learning rate is applied twice"
        if _close(step, g / lr):
            return "the learning rate is missing from the update"
        for other in self.params:
            if other != p and _close(step, cur.v[prog.slot[f"d_L_d_{other}"]]):
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
                    if _close(value, others * v[prog.slot[cand]] + rest):
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
            if _close(yours, ref.values(cur.start, j)[slot]):
                return (f"this is the value for sample {j + 1} ({name}), not sample {cur.i + 1}: "
                        f"an off-by-one in the samples?")
            if y_j != y_i and _close(yours, ref.values(cur.start, cur.i, y=y_j)[slot]):
                return f"this uses the target of sample {j + 1} ({name}): inputs and targets are out of step"
            if x_j != x_i and _close(yours, ref.values(cur.start, cur.i, x=x_j)[slot]):
                return f"this uses the inputs of sample {j + 1} ({name}): inputs and targets are out of step"
        return ""


def _find_data(frame: types.FrameType | None, n_in: int, n_out: int, filename: str
               ) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]], tuple[str, str]] | None:
    """The learner's data set: the first variable (innermost frame first) holding rows
    of ``n_in`` numbers, with a variable of as many targets in the same frame."""
    while frame is not None:
        if frame.f_code.co_filename == filename:
            items = list(frame.f_locals.items())
            for xname, xobj in items:
                X = _matrix(xobj, n_in)
                if X is None or len(X) == 0:
                    continue
                for yname, yobj in items:
                    if yname == xname:
                        continue
                    Y = _matrix(yobj, n_out, vector_ok=n_out == 1)
                    if Y is not None and len(Y) == len(X):
                        return X, Y, (xname, yname)
        frame = frame.f_back
    return None


def _matrix(obj: Any, ncols: int, *, vector_ok: bool = False) -> list[tuple[float, ...]] | None:
    """``obj`` as rows of ``ncols`` numbers (a 2-D array or list of lists); a 1-D
    sequence counts as one column when ``vector_ok``."""
    if isinstance(obj, (str, bytes, dict)) or _number(obj) is not None:
        return None
    if hasattr(obj, "tolist") and hasattr(obj, "shape"):
        try:
            if len(obj.shape) not in (1, 2) or obj.shape[0] > MAX_DATA_ROWS:
                return None
            obj = obj.tolist()
        except Exception:  # noqa: BLE001
            return None
    if not isinstance(obj, (list, tuple)) or not 0 < len(obj) <= MAX_DATA_ROWS:
        return None
    rows = []
    for row in obj:
        if isinstance(row, (list, tuple)) or hasattr(row, "tolist"):
            if hasattr(row, "tolist"):
                row = row.tolist()
            if not isinstance(row, (list, tuple)) or len(row) != ncols:
                return None
            nums = [_number(c) for c in row]
        elif vector_ok:
            nums = [_number(row)]
        else:
            return None
        if any(n is None for n in nums):
            return None
        rows.append(tuple(nums))  # type: ignore[arg-type]
    return rows


# --------------------------------------------------------------------------- running


class _Output(io.TextIOBase):
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
    comparer = _Comparer(prog, sc, base, tracer_known, limit, sc.seed if seed is None else seed)
    tracer = _Tracer(prog.filename, watch, comparer.on_event, max_lines, assigned_lines(prog.source))
    tracer.known = tracer_known
    out = _Output()
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
    except _Stop:
        pass
    except SystemExit:
        try:
            comparer.end()
        except _Stop:
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


# --------------------------------------------------------------------------- reports


def format_text(r: CompareResult) -> str:
    out: list[str] = []
    d = r.first_difference
    if d is not None:
        where = f"{r.program}:{d.line}" if d.line is not None else r.program
        out.append(f"{where}: {d.code}" if d.code else where)
        what = "never updated" if d.missing_update else "first difference"
        out.append(f"  {what}: {d.name} in epoch {d.epoch}, sample {d.sample} ({d.sample_name})")
        out.append(f"  yours:     {d.yours!r}")
        out.append(f"  expected:  {d.expected!r}")
        out.append(f"  nnstep:    {d.nnstep_code}")
        if d.formula:
            out.append(f"             = {d.formula}")
        if d.hint:
            out.append(f"  hint:      {d.hint}")
        out.append(f"{r.compared} values agreed before it.")
    else:
        out.append(f"all {r.compared} values agree over {_samples(r.samples, r.sample_count)}.")
        if r.ended_early:
            out.append("your program ended before the samples asked for.")
    if r.missing:
        out.append("not found in your program: " + ", ".join(r.missing))
    out.append(f"data: {r.data_source}; learning rate {r.learn_rate!r}")
    if r.output_lines:
        out.append(f"(your program printed {r.output_lines} "
                   f"line{'s' if r.output_lines != 1 else ''}; not shown)")
    return "\n".join(out) + "\n"


def _samples(n: int, per_epoch: int) -> str:
    """``4 samples (1 epoch)``, ``6 samples (1 epoch and 2 samples)``."""
    text = f"{n} sample{'s' if n != 1 else ''}"
    epochs, rest = divmod(n, per_epoch)
    if not epochs:
        return text
    more = f" and {rest} sample{'s' if rest != 1 else ''}" if rest else ""
    return f"{text} ({epochs} epoch{'s' if epochs != 1 else ''}{more})"
