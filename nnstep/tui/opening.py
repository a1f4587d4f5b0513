"""Opening a scenario off the UI thread, and rendering its formulas in a worker.

:class:`Opening` is a part of :class:`nnstep.tui.app.NNStepApp` (a mixin it hosts):
the scenario is loaded and its program built by :mod:`.background` (the run bar says
so, esc abandons it); the SymPy formulas are rendered by a thread worker that posts
:class:`FormulaReady` as each op's formula arrives.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.content import Content
from textual.message import Message
from textual.worker import get_current_worker

from nnstep.debugger import Debugger
from nnstep.errors import NNStepError
from nnstep.scenario import Scenario, bundled, load_scenario
from nnstep.text import visible

from . import background
from .components.errors import ErrorView
from .components.formula import VIEW_TITLES, FormulaView, formula_text
from .components.network import NetworkModel, NetworkView
from .components.program import ProgramView
from .components.status import StatusBar
from .components.values import ValuesView
from .formulas import FormulaBook


class FormulaReady(Message):
    """The formula worker rendered op ``index`` (-1: a general update)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


class Opening:
    """Opening scenarios and their formulas: hosted by the app (``self`` is the app)."""

    # ------------------------------------------------------------------ scenario

    def open_scenario(self, arg: str | Path | Scenario | None) -> None:
        """Load (a name, a path or a loaded scenario) and build its program off the UI
        thread; the run bar says so and esc abandons it.  On failure the error view
        shows what is wrong (never a traceback)."""
        if self._job is not None:
            self._job.cancel()
        self.stop_playing()
        what = arg.name if isinstance(arg, Scenario) else str(arg) if arg is not None else "note-network"

        def work() -> tuple[Debugger, NetworkModel]:
            scenario = arg if isinstance(arg, Scenario) else load_scenario(arg)
            dbg = Debugger(scenario)
            return dbg, NetworkModel(dbg)

        def done(result: tuple[Debugger, NetworkModel] | None, error: BaseException | None) -> None:
            self._job = None
            self._end_busy()
            if error is not None or result is None:
                self.show_error(error or RuntimeError("nothing loaded"))
            else:
                self.scenario_arg = arg
                self.use_debugger(*result)

        label = f"opening {visible(what)}"
        self._job = background.start(self, label, work, done)
        self._begin_busy(label, determinate=False)
        if self.dbg is None:
            self.query_one(StatusBar).show(Text(label + "…", style="bold"), None)

    def on_job_done(self, message: background.JobDone) -> None:
        message.deliver()

    def _abandon_open(self) -> None:
        """esc while opening: the app keeps what it showed before."""
        job, self._job = self._job, None
        if job is None:
            return
        job.cancel()
        self._end_busy()
        if self.dbg is None:
            self.show_error(NNStepError(f"{job.label} was interrupted (esc)"))
        else:
            self.notify(f"{job.label} was interrupted", timeout=3, markup=False)
            self.update_bindings()

    def use_debugger(self, dbg: Debugger, model: NetworkModel) -> None:
        self.stop_playing()
        scenario = dbg.scenario
        self.dbg = dbg
        self.load_error = None
        self._losses = []
        self._losses_done = 0
        self.last_stop = None
        self.restart_undo = None
        self.message = self.message_short = ""
        self.network_model = model
        self.book = FormulaBook(dbg.program)
        self.query_one(ErrorView).display = False
        self.query_one("#panes").display = True
        self.query_one(ProgramView).load(dbg)
        self.query_one(ValuesView).load(dbg)
        self.query_one(NetworkView).set_model(self.network_model)
        self.sub_title = visible(scenario.name)
        # after the first frame: importing SymPy holds the GIL for a while
        self.call_after_refresh(self.start_formula_worker, self.book)
        self.refresh_panes()
        self.query_one(ProgramView).focus()

    def show_error(self, err: BaseException) -> None:
        self.stop_playing()
        self.load_error = err
        self.dbg = None
        self.book = None
        self.workers.cancel_group(self, "formulas")
        self.query_one("#panes").display = False
        view = self.query_one(ErrorView)
        view.show(err)
        view.display = True
        self.query_one(StatusBar).show(Text("no scenario open", style="bold red"), None)
        self.update_bindings()

    @staticmethod
    def bundled_names() -> list[str]:
        return [p.stem for p in bundled()]

    def open_bundled(self, stem: str) -> None:
        if self.busy:
            self.bell()
            return
        self.open_scenario(stem)

    # ------------------------------------------------------------------ formulas

    def start_formula_worker(self, book: FormulaBook) -> None:
        if not self.is_running or self.book is not book:  # closing, or another scenario by now
            return
        self.workers.cancel_group(self, "formulas")

        def job() -> None:
            worker = get_current_worker()
            # stops when cancelled, when another scenario is opened and when the app
            # closes (even if it started too late to be cancelled with the others)
            book.run(lambda: worker.is_cancelled or self.book is not book or not self.is_running,
                     lambda index: self.post_message(FormulaReady(index)))

        self.run_worker(job, thread=True, group="formulas", exclusive=True, exit_on_error=False,
                        name="formulas")

    def on_formula_ready(self, message: FormulaReady) -> None:
        if self.dbg is None or self.busy:
            return
        if message.index in (-1, self.shown_op):
            self.update_formula(reset=False)

    def update_formula(self, *, reset: bool) -> None:
        dbg = self.dbg
        pane = self.query_one(FormulaView)
        if dbg is None or self.busy:  # a worker owns the debugger while it runs
            return
        width = max(30, pane.scrollable_content_region.width or 60)
        text, waiting = formula_text(dbg, self.book, self.shown_op, self.view, width)
        if waiting and self.book is not None:
            self.book.request(self.shown_op, expanded=self.view == "expanded")
        pane.show(text, reset=reset)
        book = self.book
        state = ""
        if book is not None and not book.sympy_ready and not book.failed:
            state = " · loading SymPy…"
        elif book is not None and not book.complete and not book.failed:
            state = f" · SymPy {book.rendered}/{len(book.ops)}"
        title, subtitle = f"Formula · {VIEW_TITLES[self.view]}", f"t: view{state}"
        if (pane.border_title, pane.border_subtitle) != (title, subtitle):  # each repaints the pane
            pane.border_title, pane.border_subtitle = Content(title), Content(subtitle)
