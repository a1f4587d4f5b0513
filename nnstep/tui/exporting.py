"""Export this step (``x``, or the palette): the handout of the current epoch and
sample (:mod:`nnstep.export`) written to the working directory, off the UI thread.

The run bar shows it while it is written and esc stops it; a toast says where the
file is (in a browser, Textual delivers it as a download instead: the server's
working directory is not the user's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from nnstep.debugger import Stop
from nnstep.errors import NNStepError
from nnstep.export import ExportCancelled, collect, file_name, render
from nnstep.text import visible

FORMAT_NAMES = {"markdown": "Markdown", "latex": "LaTeX", "html": "HTML"}


class ExportDone(Message):
    """A handout was written to ``path`` (or made as ``text`` to deliver as ``name``), or
    could not be (``error``)."""

    def __init__(self, *, path: str = "", text: str = "", name: str = "", error: str = "") -> None:
        super().__init__()
        self.path = path
        self.text = text
        self.name = name
        self.error = error


def start_export(app: Any, fmt: str) -> None:
    """Collect the current sample's step and render it in a run worker (``app`` is the
    :class:`~nnstep.tui.app.NNStepApp`; its run machinery gives the run bar and esc)."""
    dbg = app.dbg
    web = app.is_web

    def job(cancel, progress) -> Stop:
        try:
            step = collect(dbg)  # within the current sample, and back (at most 5,000 ops)
            text = render(step, fmt, cancel=cancel)
            name = file_name(step, fmt)
            if web:
                app.post_message(ExportDone(text=text, name=name))
            else:
                path = Path.cwd() / name
                path.write_text(text, encoding="utf-8")
                app.post_message(ExportDone(path=str(path)))
        except ExportCancelled:
            return Stop("cancelled")
        except NNStepError as err:
            app.post_message(ExportDone(error=str(err)))
        except OSError as err:
            app.post_message(ExportDone(error=f"Could not write the handout: {err}"))
        return Stop("exported")

    app.run_in_worker(job, f"exporting this step ({FORMAT_NAMES[fmt]})", determinate=False)


def export_done(app: Any, message: ExportDone) -> None:
    """The toast (or, in a browser, the download)."""
    if message.error:
        app.notify(visible(message.error), title="Export", severity="error", timeout=8, markup=False)
    elif message.name:
        app.deliver_text(_text_file(message.text), save_filename=message.name)
    else:
        app.notify(visible(f"Handout saved to {message.path}"), title="Export", timeout=6, markup=False)


def _text_file(text: str) -> Any:
    import io

    return io.StringIO(text)
