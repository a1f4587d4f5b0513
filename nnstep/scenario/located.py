"""The one small helper every section's checks share: located errors, recorded
problems, and typed getters that name the key (and the line) of what is wrong.

Keys are written the way the code addresses the TOML (``samples[1].x[0]``,
0-based) and shown counting from 1 (``samples #2 (Bob): x #1``)."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import MAX_QUOTE, FormulaError, NNStepError, ScenarioError, cut, quote
from ..expr import Node, check_identifier, parse
from ..text import is_visible
from .model import MAX_TEXT

T = TypeVar("T")


class Checker:
    """Checks a parsed TOML document and records its problems.

    A problem is recorded and checking goes on wherever what follows does not
    depend on the broken part; a check whose problems are recorded raises
    :class:`Recorded`, and its caller skips what depends on it."""

    def __init__(self, raw: dict[str, Any], text: str, label: str) -> None:
        self.raw = raw
        self.lines = text.splitlines()
        self.label = label
        self.problems: list[NNStepError] = []
        self.sample_names: dict[int, str] = {}  # given sample names, for readable keys

    # -- errors --------------------------------------------------------------------------

    def fail(self, key: str, reason: str) -> ScenarioError:
        """A located error for ``key``, written the way the code addresses it
        (``samples[1].x[0]``, 0-based); shown counting from 1 (``samples #2 (Bob): x #1``)."""
        return ScenarioError(reason, file=self.label, line=self.locate(key), key=self.show_key(key))

    def note(self, exc: NNStepError) -> None:
        """Record a problem (or several) and go on."""
        self.problems.extend(exc.errors)

    def attempt(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``check(*args)``, or None after recording the problem it raised."""
        try:
            return check(*args, **kwargs)
        except ScenarioError as exc:
            self.note(exc)
            return None

    def show_key(self, key: str) -> str:
        def position(m: re.Match[str]) -> str:
            i = int(m.group(1))
            shown = f" #{i + 1}"
            if key[: m.start()] == "samples" and i in self.sample_names:
                shown += f" ({cut(self.sample_names[i], MAX_QUOTE)})"
            return shown + (": " if m.group(2) else "")

        return _POSITION.sub(position, key)

    def locate(self, key: str) -> int | None:
        """Best-effort line of a dotted key such as ``samples[3].x`` or ``network.layers[1].activation``."""
        parts = re.findall(r"[A-Za-z_][\w-]*|\[\d+\]", key)
        if not parts:
            return None
        line, rest = 0, parts
        # the longest table header naming a prefix of the key: [graph.nodes] before [graph]
        for k in range(len(parts), 0, -1):
            if any(p.startswith("[") for p in parts[:k]):
                continue
            dotted = r"\s*\.\s*".join(re.escape(p) for p in parts[:k])
            header = re.compile(rf"^\s*\[\[?\s*{dotted}\s*\]\]?\s*(#.*)?$")
            headers = [i for i, ln in enumerate(self.lines) if header.match(ln)]
            if headers:
                after = parts[k:]
                indexed = bool(after) and after[0].startswith("[")
                line = headers[min(int(after[0][1:-1]) if indexed else 0, len(headers) - 1)]
                rest = after[1:] if indexed else after
                break
        for part in rest:
            if part.startswith("["):
                line = self._nth_item(line, int(part[1:-1]))
                continue
            pat = re.compile(rf"(^|[\s{{,])[\"']?{re.escape(part)}[\"']?\s*=")  # bare or quoted key
            hit = next((i for i in range(line, len(self.lines)) if pat.search(self.lines[i])), None)
            if hit is None:
                break
            line = hit
        return line + 1

    def _nth_item(self, line: int, n: int) -> int:
        """The line where the n-th inline table of the array that starts on ``line`` begins."""
        depth = count = 0
        for i in range(line, len(self.lines)):
            for ch in self.lines[i].split("#", 1)[0]:
                if ch in "[{":
                    depth += 1
                    if ch == "{" and depth == 2:
                        if count == n:
                            return i
                        count += 1
                elif ch in "]}":
                    depth -= 1
                    if depth == 0:
                        return line
        return line

    # -- typed getters ------------------------------------------------------------------

    def table(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """``value`` as a table of the allowed keys; each unknown key is recorded and left out."""
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {kind_of(value)}")
        for k in value:
            if k not in allowed:
                hint = difflib.get_close_matches(k, allowed, n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else f" (known: {', '.join(allowed)})"
                self.note(self.fail(join_key(key, k), f"unknown key{tip}"))
        return {k: v for k, v in value.items() if k in allowed}

    def string(self, value: Any, key: str, *, multiline: bool = False) -> str:
        """Free text (a name or description): bounded, and nothing a terminal would act on."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {kind_of(value)}")
        if len(value) > MAX_TEXT:
            raise self.fail(key, f"is longer than {MAX_TEXT:,} characters")
        bad = next((i for i, ch in enumerate(value)
                    if not (multiline and ch == "\n") and not is_visible(ch)), None)
        if bad is not None:
            raise self.fail(key, f"contains the control or invisible character {quote(value[bad])} at "
                            f"character {bad + 1}; names{' and descriptions' if multiline else ''} "
                            "are plain text")
        return value

    def ident(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a name in quotes, not {kind_of(value)}")
        try:
            return check_identifier(value)
        except FormulaError as exc:
            raise self.fail(key, exc.reason) from None

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {kind_of(value)}")
        if isinstance(value, int) and abs(value) > 2**53:
            raise self.fail(key, f"is too large: {show_number(value)}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(key, f"must be a finite number, not {value}")
        return x

    def integer(self, value: Any, key: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {kind_of(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:,} and {hi:,}, not {show_number(value)}")
        return value

    def array(self, value: Any, key: str, *, max_len: int) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {kind_of(value)}")
        if len(value) > max_len:
            raise self.fail(key, f"has {len(value):,} entries; at most {max_len:,} are allowed")
        return value

    def each(self, items: list[Any], check: Callable[[Any, str], T], key: str) -> tuple[T, ...] | None:
        """``check`` on every entry of a list (keys ``key[0]``, ``key[1]``, ...); None if any failed."""
        out = [self.attempt(check, v, f"{key}[{i}]") for i, v in enumerate(items)]
        return None if any(v is None for v in out) else tuple(out)  # type: ignore[misc]

    def formula(self, value: Any, key: str, names: tuple[str, ...] | frozenset[str]) -> tuple[str, Node]:
        """Parse a formula with the safe parser; its errors name this key."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a formula in quotes, not {kind_of(value)}")
        try:
            return value, parse(value, names)
        except FormulaError as exc:
            raise self.fail(key, exc.reason) from None


class Recorded(ScenarioError):
    """Raised by a check whose problems are already recorded: it only says "this part failed"."""

    def __init__(self) -> None:
        super().__init__("(recorded)")

    @property
    def errors(self) -> tuple[NNStepError, ...]:
        return ()


_POSITION = re.compile(r"\[(\d+)\](\.)?")


def show_number(value: int | float) -> str:
    """A number from a file for an error message, short however long it is."""
    if isinstance(value, int) and abs(value) >= 10**15:
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"a{' negative' if value < 0 else ''} number of about {digits:,} digits"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def join_key(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def kind_of(value: Any) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)
