"""Sessions: breakpoints, conditions, watches, what-if edits and the position, kept
in a small TOML file beside the scenario and restored bit for bit.

A session file is data from anywhere, read like a scenario file: only a regular
file, at most :data:`MAX_SESSION_BYTES`, every list bounded, every formula through
the safe parser (:mod:`nnstep.expr`), every problem one located line
``FILE:LINE: key: what is wrong`` (:class:`SessionError`).  Restoring replays the
edits in the order they were made, each at the position where it was made, so the
debugger ends in exactly the state that was saved; an edit whose formula no longer
gives the saved value (the scenario changed) is an error, not a silent difference.

Positions count from 1 like everything a person reads: ``[epoch, sample, op]``
where ``op`` is how many ops of the sample had run (0: none yet, at the very start).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .debugger import Debugger
from .errors import NNStepError
from .scenario import Scenario, load_scenario, read_file
from .scenario.located import Checker
from .scenario.model import MAX_EPOCHS

FORMAT = 1
#: Limits of a session file.
MAX_SESSION_BYTES = 256_000
MAX_BREAKPOINTS = 10_000
MAX_CONDITIONS = 64
MAX_WATCHES = 32
MAX_EDITS = 1_000
KEYS = ("nnstep_session", "scenario", "seed", "epochs", "breakpoints", "conditions", "stop_on_nonfinite",
        "watches", "at", "edits")
EDIT_KEYS = ("at", "name", "formula", "value")


class SessionError(NNStepError):
    """A session file that cannot be read or restored."""


@dataclass(frozen=True)
class SavedEdit:
    at: tuple[int, int, int]  # epoch, sample (from 1), ops run in the sample
    name: str
    formula: str
    value: float


@dataclass(frozen=True)
class Session:
    """What a session file holds (validated, not yet applied to a debugger)."""

    scenario: str  # a bundled name, or a path (relative: to the session file's folder)
    seed: int
    epochs: int
    at: tuple[int, int, int]
    breakpoints: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    stop_on_nonfinite: bool = False
    watches: tuple[str, ...] = ()
    edits: tuple[SavedEdit, ...] = ()
    file: str = ""  # where it was read from (for errors and relative paths)
    lines: dict[str, int | None] = field(default_factory=dict, compare=False)  # key -> line, for errors


# --------------------------------------------------------------------------- saving


def position(dbg: Debugger) -> tuple[int, int, int]:
    """The debugger's position as a session writes it: epoch and sample from 1, and
    the ops run in that sample."""
    g, k = dbg.sample_global, dbg.op_index + 1
    epoch, sample = divmod(g, dbg.sample_count)
    return epoch + 1, sample + 1, k


def session_of(dbg: Debugger, scenario: str, watches: list[str] | tuple[str, ...] = ()) -> Session:
    """The session of ``dbg`` (``scenario``: how to find the scenario again)."""
    M = dbg.sample_count
    edits = tuple(SavedEdit((e.g // M + 1, e.g % M + 1, e.k), e.name, e.text, e.value) for e in dbg.edits)
    ordered = sorted(dbg.breakpoints, key=lambda n: dbg.program.by_name[n].index)
    return Session(scenario, dbg.seed, dbg.epochs, position(dbg), tuple(ordered),
                   tuple(c.text for c in dbg.conditions), dbg.stop_on_nonfinite, tuple(watches), edits)


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=True).replace("\x7f", "\\u007f")


def _list(items: tuple[str, ...]) -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"  {_s(x)},\n" for x in items) + "]"


def dumps(session: Session) -> str:
    out = [
        "# nnstep session: breakpoints, conditions, watches, what-if edits and the position",
        "# (positions: [epoch, sample, ops run in the sample], counting from 1)",
        f"nnstep_session = {FORMAT}",
        f"scenario = {_s(session.scenario)}",
        f"seed = {session.seed}",
        f"epochs = {session.epochs}",
        f"at = {list(session.at)}",
        f"breakpoints = {_list(session.breakpoints)}",
        f"conditions = {_list(session.conditions)}",
        f"stop_on_nonfinite = {'true' if session.stop_on_nonfinite else 'false'}",
        f"watches = {_list(session.watches)}",
    ]
    for e in session.edits:
        out += ["", "[[edits]]", f"at = {list(e.at)}", f"name = {_s(e.name)}", f"formula = {_s(e.formula)}",
                f"value = {e.value!r}"]
    return "\n".join(out) + "\n"


def save(session: Session, path: str | Path) -> Path:
    """Write ``session`` to ``path``; an OSError becomes a one-line :class:`SessionError`."""
    path = Path(path)
    try:
        path.write_text(dumps(session), encoding="utf-8")
    except OSError as exc:
        raise SessionError(f"cannot write: {exc.strerror or type(exc).__name__}", file=str(path)) from None
    return path


def default_path(scenario: Scenario, source: str | Path | None) -> Path:
    """``<scenario stem>.nnstep-session.toml`` beside the scenario file, or in the working
    directory for a bundled scenario."""
    from .scenario import scenario_dir

    text = str(source) if source is not None else scenario.source
    path = Path(text)
    if path.suffix == ".toml" and path.exists() and path.resolve().parent != scenario_dir().resolve():
        return path.with_name(f"{path.stem}.nnstep-session.toml")
    stem = path.stem if path.suffix == ".toml" else (text or "scenario")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)[:60] or "scenario"
    return Path.cwd() / f"{safe}.nnstep-session.toml"


def scenario_ref(scenario: Scenario, source: str | Path | None, session_path: Path) -> str:
    """How the session names its scenario: a bundled name as it is, a file by its path
    relative to the session's folder where it can be."""
    from .scenario import scenario_dir

    text = str(source) if source is not None and not isinstance(source, Scenario) else scenario.source
    path = Path(text)
    if path.suffix != ".toml" or not path.exists():
        return text
    full = path.resolve()
    if full.parent == scenario_dir().resolve():
        return full.stem
    try:
        return str(full.relative_to(session_path.resolve().parent))
    except ValueError:
        return str(full)


# --------------------------------------------------------------------------- reading


def load(path: str | Path) -> Session:
    """Read and check a session file (nothing from it is run)."""
    label = str(path)
    try:
        data = read_file(path, label)
    except NNStepError as exc:
        raise SessionError(exc.reason, file=label, line=exc.line) from None
    if len(data) > MAX_SESSION_BYTES:
        raise SessionError(f"file is larger than {MAX_SESSION_BYTES // 1000} kB (is this a session file?)",
                           file=label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SessionError("not UTF-8 text (is this a session file?)", file=label, line=line) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = None
        if "(at line " in msg:
            head, _, tail = msg.rpartition("(at line ")
            msg = head.strip()
            line = int(tail.split(",")[0]) if tail.split(",")[0].isdigit() else None
        elif msg.endswith("(at end of document)"):
            msg = msg.removesuffix("(at end of document)").strip() + " at the end of the file"
            line = text.count("\n") + (not text.endswith("\n"))
        raise SessionError(f"TOML syntax error: {msg}", file=label, line=line) from None
    except (RecursionError, ValueError):
        raise SessionError("not a session file nnstep can read (nesting or numbers too large)", file=label) from None
    return _check(raw, text, label)


def _check(raw: dict[str, Any], text: str, label: str) -> Session:
    c = Checker(raw, text, label)

    def fail(key: str, reason: str) -> SessionError:
        return SessionError(reason, file=label, line=c.locate(key), key=c.show_key(key))

    def guard(check, *args, **kw):
        try:
            return check(*args, **kw)
        except NNStepError as exc:
            raise SessionError(exc.reason, file=label, line=exc.line, key=exc.key) from None

    top = guard(c.table, raw, "", KEYS)
    if c.problems:
        e = c.problems[0]
        raise SessionError(e.reason, file=label, line=e.line, key=e.key)
    if top.get("nnstep_session") != FORMAT:
        raise fail("nnstep_session", f"must be {FORMAT} (is this an nnstep session file?)")
    for key in ("scenario", "seed", "epochs", "at"):
        if key not in top:
            raise SessionError(f"missing key '{key}'", file=label, key=key)
    scenario = guard(c.string, top["scenario"], "scenario")
    seed = guard(c.integer, top["seed"], "seed", 0, 2**32 - 1)
    epochs = guard(c.integer, top["epochs"], "epochs", 1, MAX_EPOCHS)
    at = _at(c, guard, top["at"], "at")

    def strings(key: str, limit: int) -> tuple[str, ...]:
        items = guard(c.array, top.get(key, []), key, max_len=limit)
        return tuple(guard(c.string, x, f"{key}[{i}]") for i, x in enumerate(items))

    breakpoints = strings("breakpoints", MAX_BREAKPOINTS)
    conditions = strings("conditions", MAX_CONDITIONS)
    watches = strings("watches", MAX_WATCHES)
    stop = top.get("stop_on_nonfinite", False)
    if not isinstance(stop, bool):
        raise fail("stop_on_nonfinite", "must be true or false")
    edits = []
    for i, item in enumerate(guard(c.array, top.get("edits", []), "edits", max_len=MAX_EDITS)):
        key = f"edits[{i}]"
        t = guard(c.table, item, key, EDIT_KEYS)
        if c.problems:
            e = c.problems[0]
            raise SessionError(e.reason, file=label, line=e.line, key=e.key)
        for k in EDIT_KEYS:
            if k not in t:
                raise fail(key, f"missing key '{k}'")
        edits.append(SavedEdit(_at(c, guard, t["at"], f"{key}.at"), guard(c.ident, t["name"], f"{key}.name"),
                               guard(c.string, t["formula"], f"{key}.formula"),
                               guard(c.number, t["value"], f"{key}.value")))
    lines = {k: c.locate(k) for k in ("scenario", "at", "breakpoints", "conditions", "watches")}
    lines.update({f"edits[{i}]": c.locate(f"edits[{i}]") for i in range(len(edits))})
    return Session(scenario, seed, epochs, at, breakpoints, conditions, stop, watches, tuple(edits), label, lines)


def _at(c: Checker, guard, value: Any, key: str) -> tuple[int, int, int]:
    items = guard(c.array, value, key, max_len=3)
    if len(items) != 3:
        raise SessionError("must be [epoch, sample, op] (counting from 1; op 0: before the first op)",
                           file=c.label, line=c.locate(key), key=c.show_key(key))
    e = guard(c.integer, items[0], key, 1, MAX_EPOCHS)
    s = guard(c.integer, items[1], key, 1, 10**9)
    k = guard(c.integer, items[2], key, 0, 10**9)
    return e, s, k


# --------------------------------------------------------------------------- restoring


def scenario_source(session: Session) -> str:
    """What to load for the session's scenario: a bundled name as it is, a relative path
    from the session file's folder."""
    ref = session.scenario
    path = Path(ref)
    if session.file and not path.is_absolute() and (path.suffix == ".toml" or "/" in ref):
        return str(Path(session.file).parent / path)
    return ref


def scenario_of(session: Session) -> Scenario:
    """Load the session's scenario (:func:`scenario_source`).  A scenario that is not
    there is the session's error; one that is there but broken is its own file's."""
    source = scenario_source(session)
    try:
        return load_scenario(source)
    except NNStepError as exc:
        if exc.file == source and exc.line is None:
            raise SessionError(exc.reason, file=session.file or None, line=session.lines.get("scenario"),
                               key="scenario") from None
        raise


def restore(session: Session, scenario: Scenario | None = None, *,
            program=None) -> Debugger:
    """A debugger in the state the session was saved in (``scenario``: instead of the
    session's own).  Raises :class:`SessionError` (located in the session file) where
    the session does not fit the scenario."""
    sc = scenario if scenario is not None else scenario_of(session)
    dbg = Debugger(sc, seed=session.seed, epochs=session.epochs, program=program)
    label, lines = session.file or "<session>", session.lines

    def fail(key: str, reason: str, line_key: str | None = None) -> SessionError:
        return SessionError(reason, file=label, line=lines.get(line_key or key), key=key)

    for name in session.breakpoints:
        if name not in dbg.program.by_name:
            raise fail("breakpoints", f"no op named {name!r} in this scenario's program")
        if name not in dbg.breakpoints:
            dbg.toggle_breakpoint(name)
    for text in session.conditions:
        try:
            dbg.add_condition(text)
        except NNStepError as exc:
            raise fail("conditions", exc.reason) from None
    dbg.stop_on_nonfinite = session.stop_on_nonfinite
    for text in session.watches:
        try:
            dbg.watch(text)
        except NNStepError as exc:
            raise fail("watches", exc.reason) from None
    for i, e in enumerate(session.edits):
        key = f"edits #{i + 1}"
        dbg.goto(_t(dbg, e.at, lambda reason, k=key, j=i: fail(k, reason, f"edits[{j}]")))
        try:
            made = dbg.edit(e.name, e.formula)
        except NNStepError as exc:
            raise fail(key, exc.reason, f"edits[{i}]") from None
        if made.value != e.value and not (math.isnan(made.value) and math.isnan(e.value)):
            dbg.undo_edit()
            raise fail(key, f"{e.formula} gives {made.value!r} here, but the session saved {e.value!r} "
                       "(was the scenario changed?)", f"edits[{i}]")
    dbg.goto(_t(dbg, session.at, lambda reason: fail("at", reason)))
    return dbg


def _t(dbg: Debugger, at: tuple[int, int, int], fail) -> int:
    """A session position ``[epoch, sample, ops run]`` as the debugger's t; checked."""
    e, s, k = at
    if e > dbg.epochs:
        raise fail(f"epoch {e} is past the last epoch ({dbg.epochs})")
    if s > dbg.sample_count:
        raise fail(f"sample {s} is past the last sample ({dbg.sample_count})")
    if k > dbg.op_count:
        raise fail(f"op {k} is past the last op of a sample ({dbg.op_count})")
    if k == 0 and (e, s) != (1, 1):
        raise fail("op 0 (before the first op) is only the very start, [1, 1, 0]; "
                   "a later position counts the ops run")
    return ((e - 1) * dbg.sample_count + s - 1) * dbg.op_count + k


__all__ = ["Session", "SessionError", "SavedEdit", "default_path", "dumps", "load", "restore", "save",
           "scenario_of", "scenario_ref", "scenario_source", "session_of"]
