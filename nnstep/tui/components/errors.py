"""How a scenario that fails to load is shown: its file, line, key and reason,
and the offending line of the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnstep.errors import NNStepError
from nnstep.text import visible


def error_text(err: BaseException, *, title: str = "Could not open the scenario") -> Text:
    t = Text()
    t.append(visible(title) + "\n\n", style="bold red")
    if isinstance(err, NNStepError):
        rows = [("file", err.file), ("line", str(err.line) if err.line else None), ("key", err.key),
                ("reason", err.reason)]
    else:  # a bug in nnstep: still no traceback, but say what it was
        rows = [("error", f"{type(err).__name__}: {err}"), ("note", "this is a bug in nnstep; please report it")]
    for label, value in rows:
        if value:
            t.append(f"  {label:<7}", style="dim")
            t.append(visible(value) + "\n", style="bold" if label in ("reason", "error") else "")
    for other in err.errors[1:] if isinstance(err, NNStepError) else ():  # a file's further problems
        t.append(f"  {'also':<7}", style="dim")
        t.append(visible(str(other)) + "\n")
    source = _source_lines(err)
    if source:
        t.append("\n")
        for number, line, here in source:
            t.append(f"  {number:>4} │ ", style="bold red" if here else "dim")
            t.append(visible(line) + "\n", style="bold" if here else "dim")
    return t


def _source_lines(err: BaseException, context: int = 2) -> list[tuple[int, str, bool]]:
    if not isinstance(err, NNStepError) or not err.file or not err.line:
        return []
    try:
        path = Path(err.file)
        if not path.is_file() or path.stat().st_size > 4_000_000:
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    lo = max(1, err.line - context)
    hi = min(len(lines), err.line + context)
    return [(n, lines[n - 1][:200], n == err.line) for n in range(lo, hi + 1)]


class ErrorView(VerticalScroll, can_focus=False):
    """Shown instead of the panes when no scenario is open."""

    DEFAULT_CSS = """
    ErrorView { display: none; padding: 1 2; }
    ErrorView > Static { width: 1fr; }
    """

    def compose(self):
        yield Static(id="error-body")

    def show(self, err: BaseException) -> None:
        t = error_text(err)
        t.append("\nPress ", style="")
        t.append("o", style="bold reverse")
        t.append(" to open another scenario (bundled list or a file), ")
        t.append("?", style="bold reverse")
        t.append(" for help, ")
        t.append("q", style="bold reverse")
        t.append(" to quit.")
        self.query_one("#error-body", Static).update(t)

    @property
    def plain(self) -> str:
        content = self.query_one("#error-body", Static).content
        return content.plain if isinstance(content, Text) else str(content)
