"""Opening a scenario off the UI thread, and rendering its formulas in a worker.

:class:`Opening` is a part of :class:`nnstep.tui.app.NNStepApp` (a mixin it hosts):
the scenario is loaded and its program built by :mod:`.background` (the run bar says
so, esc abandons it); the SymPy formulas are rendered by a thread worker that posts
:class:`FormulaReady` as each op's formula arrives.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from rich.text import Text
from textual.content import Content
from textual.message import Message
from textual.worker import get_current_worker

from nnstep.debugger import Debugger
from nnstep.errors import NNStepError
from nnstep.position import At, at_step
from nnstep.scenario import Scenario, bundled, load_scenario, resolve
from nnstep.text import visible
from nnstep.trace import seed_note

from . import background
from .components.errors import ErrorView
from .components.formula import VIEW_TITLES, FormulaView, formula_text
from .components.network import NetworkModel, NetworkView
from .components.program import ProgramView
from .components.status import StatusBar
from .components.values import ValuesView
from .formulas import FormulaBook
from .runs import loss_history


class FormulaReady(Message):
    """The formula worker rendered op ``index`` (-1: a general update)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


class Opening:
    """Opening scenarios and their formulas: hosted by the app (``self`` is the app)."""

    # the app's panes (NNStepApp.__init__)
    program_pane: ProgramView
    formula_pane: FormulaView
    network_pane: NetworkView
    values_pane: ValuesView
    status_bar: StatusBar

    # ------------------------------------------------------------------ scenario

    def open_scenario(self, arg: str | Path | Scenario | None, *, seed: int | None = None,
                      epochs: int | None = None, at: At | None = None) -> None:
        """Load (a name, a path or a loaded scenario) and build its program off the UI
        thread; the run bar says so and esc abandons it.  On failure the error view
        shows what is wrong (never a traceback).  ``seed`` and ``epochs`` override the
        file's (``nnstep SCENARIO --seed S --epochs N``, kept across reloads); ``at`` is
        where to go once it is open (``--at``: far is a run with the run bar, esc stops it)."""
        if self._job is not None:
            self._job.cancel()
        self.stop_playing()
        self.last_open = (arg, seed, epochs)
        what = arg.name if isinstance(arg, Scenario) else str(arg) if arg is not None else "note-network"

        def work() -> tuple[Debugger, NetworkModel]:
            scenario = arg if isinstance(arg, Scenario) else load_scenario(arg)
            dbg = Debugger(scenario, seed=seed, epochs=epochs)
            return dbg, NetworkModel(dbg)

        def done(result: tuple[Debugger, NetworkModel] | None, error: BaseException | None) -> None:
            self._job = None
            self._end_busy()
            if error is not None or result is None:
                self.show_error(error or RuntimeError("nothing loaded"))
            else:
                self.scenario_arg = arg
                self.overrides = (seed, epochs)
                self.use_debugger(*result)
                note = seed_note(result[0].scenario, seed)
                if note:
                    self.notify(note.removeprefix("nnstep: note: "), title="--seed", timeout=8, markup=False)
                if at is not None:
                    self.open_at(at)

        label = f"opening {visible(what)}"
        self._job = background.start(self, label, work, done)
        self._begin_busy(label, determinate=False)
        if self.dbg is None:
            self.status_bar.show(Text(label + "…", style="bold"), None)

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

    def use_debugger(self, dbg: Debugger, model: NetworkModel, losses: list[float] | None = None) -> None:
        """Show ``dbg`` (at its position); ``losses``: its :func:`~.runs.loss_history`, when
        already made off the UI thread."""
        self.stop_playing()
        scenario = dbg.scenario
        self.dbg = dbg
        self.load_error = None
        self._losses = [] if losses is None else list(losses)
        self._losses_done = 0 if losses is None else dbg.epochs_done
        self.file_stamp = _stamp_of(scenario)
        self.file_changed_said = None
        self.last_stop = None
        self.restart_undo = None
        self.message = self.message_short = ""
        self.network_model = model
        old, self.book = self.book, FormulaBook(dbg.program)
        if old is not None:
            old.wake()  # its worker sees it is no longer the app's book and ends now, letting it go
        self.query_one(ErrorView).display = False
        self.query_one("#panes").display = True
        self.program_pane.load(dbg)
        self.values_pane.load(dbg)
        self.network_pane.set_model(self.network_model)
        self.sub_title = visible(scenario.name)
        # after the first frame: importing SymPy holds the GIL for a while
        self.call_after_refresh(self.start_formula_worker, self.book)
        self.refresh_panes()
        self.program_pane.focus()

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
        self.status_bar.show(Text("no scenario open", style="bold red"), None)
        self.update_bindings()

    def open_at(self, at: At) -> None:
        """Go to ``at`` (``--at``) in the open run; out of range: say so, stay at the start."""
        dbg = self.dbg
        assert dbg is not None
        try:
            t = at_step(dbg, at)
        except ValueError as exc:
            self.notify(visible(f"--at {at}: {exc}"), severity="error", timeout=8, markup=False)
            return
        self.goto(t, f"opening at {visible(str(at))}")

    # ------------------------------------------------------------------ reload

    def action_reload(self) -> None:
        """Re-read the scenario file off the UI thread (esc abandons it): breakpoints and
        conditions are kept (those naming ops that no longer exist are dropped, with a
        toast saying which), the position too where the program's shape is unchanged.
        A file that no longer loads keeps the current run and toasts its error."""
        if not self.allowed("reload"):
            return
        old = self.dbg
        if old is None:  # the last open failed: try it again
            assert self.last_open is not None
            arg, seed, epochs = self.last_open
            self.open_scenario(arg, seed=seed, epochs=epochs)
            return
        self.stop_playing()
        source = old.scenario.source
        seed, epochs = self.overrides
        t, shape = old.t, program_shape(old)
        box: list[background.Job] = []

        def cancelled() -> bool:
            return bool(box) and box[0].cancelled

        def work() -> tuple[Debugger, NetworkModel, bool, list[float]]:
            new = Debugger(load_scenario(source), seed=seed, epochs=epochs)
            kept = program_shape(new) == shape and t <= new.total
            if kept:
                new.goto(t, cancel=cancelled)  # cancelled: the result is dropped anyway
            return new, NetworkModel(new), kept, loss_history(new) if not cancelled() else []

        def done(result: tuple[Debugger, NetworkModel, bool, list[float]] | None,
                 error: BaseException | None) -> None:
            self._job = None
            self._end_busy()
            if self.dbg is not old:  # pragma: no cover - another scenario was opened meanwhile
                return
            if error is not None or result is None:
                line = one_line(error or RuntimeError("nothing loaded"))
                self.notify(f"{line}\nThe run goes on as it was.", title="Reload failed", severity="error",
                            timeout=12, markup=False)
                if self.file_stamp is not None:  # this version was read: no "file changed" for it
                    self.file_changed_said = _file_stamp(self.file_stamp[0])
                self.update_bindings()
                return
            new, model, kept, losses = result
            notes = self.carry_over(old, new)
            self.use_debugger(new, model, losses)
            ops, samples = program_shape(new)
            if kept:
                said = "reloaded · position kept"
            elif ops != shape[0]:
                said = "reloaded · the program's ops changed: back to the start"
            elif samples != shape[1]:
                said = f"reloaded · {samples} samples now, not {shape[1]}: back to the start"
            else:
                said = f"reloaded · the run has {new.epochs} epochs now: back to the start"
            self.message = self.message_short = said
            self.update_status()
            self.notify("\n".join([said[:1].upper() + said[1:], *notes]), title="Reloaded", timeout=6,
                        markup=False)

        label = f"reloading {visible(old.scenario.name)}"
        box.append(job := background.start(self, label, work, done))
        self._job = job
        self._begin_busy(label, determinate=False)

    def carry_over(self, old: Debugger, new: Debugger) -> list[str]:
        """Carry what the learner set up from ``old`` to ``new`` (a reload of the same file);
        return a line for each thing that could not come along.  Runs on the UI thread
        before ``new`` is shown.  The place to add more state that a reload keeps."""
        notes = []
        dropped = sorted(name for name in old.breakpoints if name not in new.program.by_name)
        for name in sorted(old.breakpoints - set(dropped)):
            new.toggle_breakpoint(name)
        if dropped:
            notes.append("breakpoints dropped (no such op now): " + ", ".join(dropped))
        lost = []
        for cond in old.conditions:
            try:
                new.add_condition(cond.text)
            except NNStepError:
                lost.append(cond.text)
        if lost:
            notes.append("conditions dropped (they name what no longer exists): " + "; ".join(lost))
        new.stop_on_nonfinite = old.stop_on_nonfinite
        return [visible(n) for n in notes]

    def poll_file(self) -> None:
        """Every 2 s (a timer): when the open file's modification time or size has changed,
        toast once "file changed: ctrl+r reloads"."""
        stamp = self.file_stamp
        if stamp is None or self.dbg is None or self.busy:
            return
        path, seen = stamp
        now = _file_stamp(path)
        if now is not None and now != seen and now != self.file_changed_said:
            self.file_changed_said = now
            self.notify("file changed: ctrl+r reloads", title=visible(path.name), timeout=8, markup=False)

    @staticmethod
    def bundled_names() -> list[str]:
        return [p.stem for p in bundled()]

    def open_bundled(self, stem: str) -> None:
        if self.busy:
            self.bell()
            return
        self.open_scenario(stem)

    # ------------------------------------------------------------------ copy, save

    def action_copy_formula(self, kind: str) -> None:
        """Copy the shown op's formula to the clipboard (OSC 52): ``'text'``, the one-line
        notation of ``nnstep trace``, or ``'latex'``; a toast says what was copied."""
        dbg, book = self.dbg, self.book
        if dbg is None or book is None:
            self.bell()
            return
        op = dbg.ops[self.shown_op]
        got = book.get(op.index)
        if got is None or got.error:
            book.request(op.index)
            why = "could not be rendered" if got is not None else "is still being rendered; try again in a moment"
            self.notify(f"The formula of {op.name} {why}", severity="warning", timeout=4, markup=False)
            return
        text, label = (got.latex, "LaTeX") if kind == "latex" else (got.text, "text")
        self.copy_to_clipboard(text)
        shown = visible(text if len(text) <= 200 else text[:199] + "…")
        self.notify(f"{op.name} as {label}:\n{shown}", title="Copied to the clipboard", timeout=6, markup=False)

    def action_save_slot_svg(self) -> None:
        """Save an SVG of the zoomed pane, or else of the view in the bottom-left slot (the
        network or what is shown in its place), in the working directory.  After a moment:
        from the palette, it runs while the palette is still closing."""
        if self.dbg is None:
            self.bell()
            return
        self.set_timer(0.1, self._save_slot_svg)

    def _save_slot_svg(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            self.action_screenshot(self.screenshot_name().removesuffix(".svg") + f"-{screen.maximized.id}.svg")
            return
        slot = self.slot
        screen.maximize(self.query_one(f"#{slot}"), container=False)

        def save() -> None:
            self.action_screenshot(self.screenshot_name().removesuffix(".svg") + f"-{slot}.svg")
            screen.minimize()
            self.call_after_refresh(self._after_resize)

        def redraw() -> None:  # at the zoomed size, then saved once that is on screen
            self._after_resize()
            self.call_after_refresh(save)

        self.call_after_refresh(redraw)

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
        book = self.book
        if message.index == -1 and book is not None and book.idle:
            settle_heap()  # the first scenario's formulas are made

    def update_formula(self, *, reset: bool) -> None:
        dbg = self.dbg
        pane = self.formula_pane
        # a worker owns the debugger while it runs; the pane is not mounted yet, or no longer (closing)
        if dbg is None or self.busy or not pane.is_attached:
            return
        width = max(30, pane.scrollable_content_region.width or 60)
        lines, waiting = formula_text(dbg, self.book, self.shown_op, self.view, width)
        if waiting and self.book is not None:
            self.book.request(self.shown_op, expanded=self.view == "expanded")
        book = self.book
        state = ""
        if book is not None and not book.sympy_ready and not book.failed:
            state = " · loading SymPy…"
        elif book is not None and not book.complete and not book.failed:
            state = f" · SymPy {book.rendered}/{len(book.ops)}"
        pane.show(lines, reset=reset, hint=f"t: view{state}")
        title = f"Formula · {VIEW_TITLES[self.view]}"
        if pane.border_title != title:  # a new title repaints the pane
            pane.border_title = Content(title)


def settle_heap() -> None:
    """Once, when the first scenario's formulas are made: take what is alive then (the
    imported libraries, SymPy's caches, that scenario and its formulas: most of the heap,
    and most of it alive as long as the app) out of the cyclic garbage collector's sight
    (:func:`gc.freeze`).  Its full collections then walk only what came later: a pause of
    up to 90 ms every hundred keys or so became 14 ms.  Only once, so what a later
    scenario leaves behind is collected as usual; if another scenario is opened, the
    first one's own cycles stay (a few MB at most)."""
    global _HEAP_SETTLED
    if not _HEAP_SETTLED:
        _HEAP_SETTLED = True
        gc.freeze()


_HEAP_SETTLED = False


def program_shape(dbg: Debugger) -> tuple[tuple[str, ...], int]:
    """What a reload must leave alone to keep the position: the op names in order and
    the number of samples."""
    return tuple(op.name for op in dbg.ops), dbg.sample_count


def one_line(err: BaseException) -> str:
    """An error as the CLI prints it: ``FILE[:LINE]: key: what is wrong``, a line per problem."""
    if isinstance(err, NNStepError):
        return "\n".join(visible(str(e)) for e in err.errors)
    return visible(f"{type(err).__name__}: {err}")


def _stamp_of(scenario: Scenario) -> tuple[Path, tuple[int, int] | None] | None:
    """The scenario's file and its (mtime, size), for :meth:`Opening.poll_file`; None
    when it did not come from a file."""
    try:
        path = resolve(scenario.source)
    except NNStepError:
        return None
    stamp = _file_stamp(path)
    return None if stamp is None else (path, stamp)


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_mtime_ns, st.st_size
