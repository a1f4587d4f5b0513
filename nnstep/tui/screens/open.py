"""The open-scenario dialog (``o``): bundled scenarios, or a file path."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from nnstep.errors import ScenarioError
from nnstep.scenario import iter_descriptions, load_scenario
from nnstep.text import visible

from .. import background
from ..components.dialog import Dialog
from ..components.errors import error_text
from ..served import inside_roots, open_refusal, open_roots

if TYPE_CHECKING:
    from nnstep.scenario import Scenario


class PathSuggester(Suggester):
    """Completes the last part of a path from the directory listing."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, stem = os.path.split(expanded)
        roots = open_roots()  # a served session lists only the folders it may open
        if roots is not None and not inside_roots(folder or ".", roots):
            return None
        try:
            entries = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        hits = [e for e in entries if e.startswith(stem) and not e.startswith(".")]
        hits = [e for e in hits if e.endswith(".toml") or os.path.isdir(os.path.join(folder or ".", e))] or hits
        if not hits:
            return None
        extra = hits[0][len(stem):]
        if os.path.isdir(os.path.join(folder or ".", hits[0])):
            extra += "/"
        return value + extra if extra else None


class OpenScreen(Dialog["tuple[str, Scenario] | None"]):
    """Pick a bundled scenario or type a path; errors show here, with file, line,
    key and reason, and the dialog stays open."""

    DEFAULT_CSS = """
    OpenScreen > Vertical { max-width: 100; max-height: 90%; }
    OpenScreen OptionList { height: auto; max-height: 18; }
    OpenScreen Input { margin: 0 0 0 0; }
    OpenScreen #open-error { height: auto; max-height: 12; }
    OpenScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.job: background.Job | None = None  # a file being read, off the UI thread
        self.closing = False  # dismissed already (a result given); later keys do nothing

    def compose(self) -> ComposeResult:
        options = []
        for stem, name, description in iter_descriptions():
            prompt = Text.assemble((visible(stem), "bold"), "  ", (visible(name), ""), "\n",
                                   (visible(description), "dim"))
            options.append(Option(prompt, id=stem))
        with Vertical() as box:
            box.border_title = "Open a scenario"
            yield Label("Bundled scenarios (enter opens):")
            yield OptionList(*options, id="open-bundled")
            yield Label("…or a scenario file (→ completes the path):")
            yield Input(placeholder="path/to/scenario.toml", suggester=PathSuggester(), id="open-path")
            yield Static("", id="open-error")
            yield Label("enter: open · tab: bundled list / path · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        """esc: stop waiting for a file being read (a FIFO may never answer), else close."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
            self.query_one("#open-error", Static).update(Text("interrupted (esc)", style="bold"))
            return
        self.close(None)

    def close(self, result: tuple[str, Scenario] | None) -> None:
        """Dismiss once: a key can arrive after a result was given and before the screen is gone."""
        if not self.closing:
            self.closing = True
            self.dismiss(result)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.try_open(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value:
            self.try_open(value)

    def try_open(self, arg: str) -> None:
        """Read and check the scenario in a thread (opening a FIFO or a device could
        block for good); the dialog stays usable and esc stops waiting.  In a served
        session only the bundled scenarios and the served folder can be opened."""
        if self.job is not None:
            self.job.cancel()
        status = self.query_one("#open-error", Static)
        if refusal := open_refusal(arg):
            status.update(error_text(ScenarioError(refusal, file=arg)))
            return
        path = os.path.expanduser(arg) if arg.startswith("~") else arg
        status.update(Text(f"reading {visible(arg)}… (esc stops waiting)", style="dim"))

        def done(scenario: Scenario | None, error: BaseException | None) -> None:
            self.job = None
            if error is not None or scenario is None:  # an NNStepError (or a bug): shown, never a traceback
                status.update(error_text(error or RuntimeError("nothing loaded")))
            else:
                self.close((arg, scenario))

        self.job = background.start(self, f"reading {arg}", lambda: load_scenario(path), done)

    def on_job_done(self, message: background.JobDone) -> None:
        message.deliver()

