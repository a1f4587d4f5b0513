"""The one error type for everything a user can get wrong: files, flags, formulas.

The location travels as data (``file``, ``line``, ``key``) so the CLI can print
one line and the TUI can show it in a panel; ``str()`` gives that one line:
``FILE[:LINE]: key: reason``.
"""

from __future__ import annotations


class NNStepError(Exception):
    """A problem the user can fix; never a bug in nnstep.

    (A plain class rather than a dataclass: ``nnstep --help`` imports this module
    and should not pay for importing ``dataclasses``.)"""

    def __init__(self, reason: str, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line
        self.key = key

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
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.key:
            parts.append(self.key)
        parts.append(self.reason)
        return ": ".join(parts)


class ScenarioError(NNStepError):
    """A scenario file that cannot be loaded."""


class FormulaError(NNStepError):
    """A formula or condition that the safe parser rejects."""
