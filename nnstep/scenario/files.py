"""Finding and reading scenario files: bundled names, paths, and the bytes of a file,
read without ever blocking; then TOML, then :class:`~.validate.Validator`."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ScenarioError, cut
from .located import Checker
from .model import DEFAULT_SCENARIO, MAX_FILE_BYTES, MAX_INTEGER_DIGITS, MAX_NESTING, Scenario
from .validate import Validator


def scenario_dir() -> Path:
    """Where the bundled scenarios are: inside the installed package, or the checkout."""
    here = Path(__file__).resolve().parent.parent  # the nnstep package
    for candidate in (here / "scenarios", here.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return here / "scenarios"


def bundled() -> list[Path]:
    """The bundled scenario files, default first, then by file name."""
    files = sorted(scenario_dir().glob("*.toml"))
    return sorted(files, key=lambda p: (p.stem != DEFAULT_SCENARIO, p.name))


def resolve(name_or_path: str | Path | None) -> Path:
    """A path as given, or a bundled scenario by its file name without ``.toml``."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    text = str(name_or_path)
    path = Path(text)
    if "/" in text or text.endswith(".toml") or _exists(path):
        return path
    candidate = scenario_dir() / f"{text}.toml"
    if _exists(candidate):
        return candidate
    names = [p.stem for p in bundled()]
    hint = difflib.get_close_matches(text, names, n=1)
    more = f"; did you mean '{hint[0]}'?" if hint else f" (bundled: {', '.join(names)})"
    raise ScenarioError(f"no such file or bundled scenario{more}", file=text)


def _exists(path: Path) -> bool:
    """Whether something is at ``path``; odd paths (too long, NUL bytes, ...) are not there."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario by path or bundled name (default: the note's network)."""
    label = str(name_or_path) if name_or_path is not None else None
    path = resolve(name_or_path)
    label = label if label is not None else str(path)
    return parse_scenario(read_file(path, label), label)


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be a scenario file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a scenario file"
    kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a scenario file: only regular files are read"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a part of the path is not a directory)"
    if isinstance(exc, PermissionError):
        return "cannot read: permission denied"
    return f"cannot read: {exc.strerror or type(exc).__name__}"


def read_file(path: str | Path, label: str | None = None) -> bytes:
    """The bytes of a scenario file, at most :data:`MAX_FILE_BYTES` + 1 of them.

    Only regular files are opened, and never in a way that can block: the path is
    checked before opening (a FIFO or a terminal would wait for a writer), opened
    non-blocking, and checked again on the open descriptor (it may have been
    swapped in between).  Every failure is one located :class:`ScenarioError`."""
    label = str(path) if label is None else label
    try:
        mode = os.stat(path).st_mode
        why = _not_regular(mode)
        if why:
            raise ScenarioError(why, file=label)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
        try:
            why = _not_regular(os.fstat(fd).st_mode)
            if why:
                raise ScenarioError(why, file=label)
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ScenarioError(_os_reason(exc), file=label) from None
    except ValueError:  # e.g. a NUL character in the path
        raise ScenarioError("not a usable file name", file=label) from None
    return b"".join(chunks)


_LONG_INTEGER = re.compile(r"[0-9][0-9_]{4300,}")


def parse_scenario(data: bytes | str, label: str = "<scenario>") -> Scenario:
    """Validate scenario text; ``label`` names it in error messages.

    Every problem that can be found is reported: one :class:`ScenarioError` for a
    single problem, a :class:`ScenarioProblems` (one line each) for several."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB", file=label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError("not UTF-8 text (is this a scenario file?)", file=label, line=line) from None
    if "\x00" in text:
        raise ScenarioError("contains NUL bytes (is this a scenario file?)", file=label)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        if m:
            reason = f"TOML syntax error at column {m.group(2)}: {reason}"
            raise ScenarioError(reason, file=label, line=int(m.group(1))) from None
        raise ScenarioError(f"TOML syntax error: {reason}", file=label) from None
    except RecursionError:
        raise ScenarioError(f"TOML nests more than {MAX_NESTING} levels deep", file=label) from None
    except ValueError:  # Python's limit on converting long decimal integers
        long = _LONG_INTEGER.search(text)
        line = text.count("\n", 0, long.start()) + 1 if long else None
        raise ScenarioError(f"a whole number with more than {MAX_INTEGER_DIGITS:,} digits, more than TOML "
                            "can read (numbers must fit in a float)", file=label, line=line) from None
    if _nesting(raw) > MAX_NESTING:
        raise ScenarioError(f"TOML nests more than {MAX_NESTING} levels deep", file=label)
    return Validator(raw, text, label).scenario()


def _nesting(value: Any) -> int:
    """How deeply tables and arrays nest in parsed TOML (the top table is level 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def iter_descriptions() -> Iterator[tuple[str, str, str]]:
    """(bundled name, scenario name, description) for ``nnstep list``, default first."""
    for path in bundled():
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            yield path.stem, "(broken)", str(exc)
            continue
        yield path.stem, sc.name, sc.description


def located_error(sc: Scenario, key: str, reason: str) -> ScenarioError:
    """A problem found after loading (while building ``sc``'s program) for ``key``
    (written 0-based, as the code addresses the TOML: ``network.layers[1].activation``),
    located and shown like the loader's own errors: the line of the key in the file it
    came from, the key counting from 1, the reason made visible and kept short."""
    reason = cut(reason, 300)
    text = ""
    try:
        path = Path(sc.source)
        if path.is_file():
            text = read_file(path).decode("utf-8", "replace")
    except (OSError, ValueError, ScenarioError):
        text = ""
    checker = Checker({}, text, sc.source)
    checker.sample_names = {i: s.name for i, s in enumerate(sc.samples) if s.name}
    return ScenarioError(reason, file=sc.source, line=checker.locate(key) if text else None,
                         key=checker.show_key(key))
