"""The one error type for everything a user can get wrong: files, flags, formulas.

The location travels as data (``file``, ``line``, ``key``) so the CLI can print
one line and the TUI can show it in a panel; ``str()`` gives that one line:
``FILE[:LINE]: key: reason``.  A file with several problems raises one
:class:`ScenarioProblems` whose ``str()`` is one such line per problem.

Text from a file never reaches a terminal raw: the reason and the key are made
visible (:func:`nnstep.text.visible`) when the error is made, the file name when
it is printed, and messages quote file text with :func:`quote`, which also cuts
it short.
"""

from __future__ import annotations

from .text import visible

#: How much of a piece of file text an error message quotes; longer is cut with "…".
MAX_QUOTE = 40
#: How much of a key an error message shows (keys can carry a file's own key names).
MAX_KEY = 120


def cut(text: str, limit: int) -> str:
    """``text`` made visible and cut to ``limit`` characters, ending in "…" if it was cut."""
    s = visible(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def quote(text: object, limit: int = MAX_QUOTE) -> str:
    """File text quoted for an error message: ``'sigmoud'``, escaped and cut short."""
    return f"'{cut(text if isinstance(text, str) else str(text), limit)}'"


class NNStepError(Exception):
    """A problem the user can fix; never a bug in nnstep.

    (A plain class rather than a dataclass: ``nnstep --help`` imports this module
    and should not pay for importing ``dataclasses``.)"""

    def __init__(self, reason: str, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        reason = visible(reason)
        key = None if key is None else cut(key, MAX_KEY)
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line
        self.key = key

    @property
    def errors(self) -> tuple[NNStepError, ...]:
        """Every problem this error stands for, one per line of ``str()``: here just itself."""
        return (self,)

    def located(self, *, file: str | None = None, line: int | None = None,
                key: str | None = None) -> NNStepError:
        """Return a copy with the missing parts of the location filled in."""
        return type(self)(
            self.reason,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            key=self.key if self.key is not None else key,
        )

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(reason={self.reason!r}, file={self.file!r}, "
                f"line={self.line!r}, key={self.key!r})")

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            where = visible(self.file)
            parts.append(where if self.line is None else f"{where}:{self.line}")
        if self.key:
            parts.append(self.key)
        parts.append(self.reason)
        return ": ".join(parts)


class ScenarioError(NNStepError):
    """A scenario file that cannot be loaded."""


class ScenarioProblems(ScenarioError):
    """Several independent problems found in one scenario file.

    Its location and reason are the first problem's (so a view that shows one
    error shows that one); ``errors`` holds them all, and ``str()`` is their
    lines joined by newlines, in the order they were found."""

    def __init__(self, errors: list[NNStepError] | tuple[NNStepError, ...]) -> None:
        if not errors:
            raise ValueError("ScenarioProblems needs at least one problem")
        first = errors[0]
        super().__init__(first.reason, file=first.file, line=first.line, key=first.key)
        self._errors = tuple(errors)

    @property
    def errors(self) -> tuple[NNStepError, ...]:
        return self._errors

    def located(self, *, file: str | None = None, line: int | None = None,
                key: str | None = None) -> NNStepError:
        return ScenarioProblems([e.located(file=file, line=line, key=key) for e in self._errors])

    def __repr__(self) -> str:
        return f"ScenarioProblems({list(self._errors)!r})"

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self._errors)


def raise_all(errors: list[NNStepError]) -> None:
    """Raise nothing, the one problem, or a :class:`ScenarioProblems` holding them all."""
    unique = list({str(e): e for e in errors}.values())
    if len(unique) == 1:
        raise unique[0]
    if unique:
        raise ScenarioProblems(unique)


class FormulaError(NNStepError):
    """A formula or condition that the safe parser rejects."""
