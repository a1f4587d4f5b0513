"""Running the learner's program under :func:`sys.settrace`, one event per changed value."""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .results import StopProgram, number, same
from .where import Where


@dataclass
class Event:
    name: str
    value: float
    old: float | None  # the value it had before, if seen
    line: int | None
    frame: types.FrameType
    assigned: bool = False  # the line's statement assigns exactly this (not just its container)


class Tracer:
    """Watches the learner's frames line by line and reports changed values."""

    def __init__(self, filename: str, watch: dict[str, list[Where]], on_event: Callable[[Event], None],
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
                raise StopProgram
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
        value = number(obj)
        if value is None:
            return
        if local:
            prev = snap.get(w.text)
            if prev is not None and prev[0] is obj and same(prev[1], value) and not forced:
                return
            snap[w.text] = (obj, value)
            old = None if prev is None else prev[1]
        else:
            key = (id(f_globals), w.text) if not w.steps else (id(root), w.text)
            hit = self.shared.get(key)
            if hit is not None and hit[0] is (f_globals if not w.steps else root) and same(hit[2], value) \
                    and (w.indexed or hit[1] is obj) and not forced:
                return
            self.shared[key] = (f_globals if not w.steps else root, obj, value)
            old = None if hit is None else hit[2]
        self.known[name] = value
        if emit:
            try:
                self.on_event(Event(name, value, old, line, frame, w.text in assigned))
            except StopProgram:
                raise
            except Exception as exc:  # a bug in nnstep, not in the learner's program
                self.internal = exc
                raise StopProgram from exc


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
