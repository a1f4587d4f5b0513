"""The nnstep TUI: step through one training step one scalar op at a time.

The app renders the engine's state and sends it commands; it holds no maths of
its own.  Values come from :class:`nnstep.Debugger`, formulas from
:class:`nnstep.symbolic.Symbolic` (rendered once per scenario in a worker, see
:mod:`nnstep.tui.formulas`).  Long runs go to a thread worker with a progress
bar and can be interrupted with esc.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from nnstep.debugger import Debugger, Stop
from nnstep.errors import NNStepError
from nnstep.scenario import Scenario, bundled, load_scenario
from nnstep.text import visible

from . import background
from .commands import NNStepCommands
from .components.errors import ErrorView
from .components.footer import KeyFooter, footer_tier
from .components.formula import VIEW_TITLES, VIEWS, FormulaView, formula_text
from .components.network import NetworkModel, NetworkView
from .components.program import ProgramView
from .components.status import StatusBar, status_text
from .components.values import ValuesView
from .formulas import FormulaBook
from .keys import bindings
from .screens.breakpoints import BreakpointsScreen
from .screens.goto import GotoScreen
from .screens.help import HelpScreen
from .screens.open import OpenScreen

#: Runs shorter than this many ops happen at once; longer ones in a worker.
SYNC_LIMIT = 20_000
#: Below this many columns the bottom row shows the network or the values, not both.
NARROW = 100
#: Play speeds in ops per second.
SPEEDS = (0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
#: Actions that need a loaded scenario and an idle debugger.
MOVES = {"step", "back", "finish", "play", "speed", "toggle_breakpoint", "conditions", "goto", "restart",
         "cycle_view", "clear_breakpoints", "toggle_heatmap"}
#: The sparkline shows at most this many epoch losses (evenly spaced, the last included).
SPARK_POINTS = 200
STOP_TEXT = {
    "breakpoint": "breakpoint at {detail}",
    "condition": "condition true: {detail}",
    "nonfinite": "non-finite value: {detail}",
    "end": "end of training",
    "cancelled": "interrupted",
}
#: The same, for a narrow status bar (● and ◆ as in the program gutter and the breakpoints dialog).
STOP_SHORT = {
    "breakpoint": "● {detail}",
    "condition": "◆ {detail}",
    "nonfinite": "non-finite: {detail}",
    "end": "end",
    "cancelled": "interrupted",
}


def duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``, ``2.1 days`` (a time left, roughly)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def loss_history(dbg: Debugger) -> list[float]:
    """The losses of the completed epochs for the sparkline, thinned to
    :data:`SPARK_POINTS` evenly spaced epochs when there are more."""
    done = dbg.epochs_done
    if done <= SPARK_POINTS:
        epochs: list[int] = list(range(done))
    else:
        epochs = sorted({round(i * (done - 1) / (SPARK_POINTS - 1)) for i in range(SPARK_POINTS)})
    return [dbg.epoch_loss(e) for e in epochs]


class FormulaReady(Message):
    """The formula worker rendered op ``index`` (-1: a general update)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


class RunProgress(Message):
    """A run in the worker got this far: ``fraction`` of it done, ``t`` the debugger's
    position, ``status`` the status line and ``loss`` the last finished epoch's loss
    (both made in the worker, where the debugger's state is consistent)."""

    def __init__(self, fraction: float, t: int, status: Text, loss: float | None, done: int) -> None:
        super().__init__()
        self.fraction = fraction
        self.t = t
        self.status = status
        self.loss = loss
        self.done = done


class RunDone(Message):
    """A run in the worker finished (or was interrupted)."""

    def __init__(self, stop: Stop, losses: list[float], done: int) -> None:
        super().__init__()
        self.stop = stop
        self.losses = losses
        self.done = done


class NNStepApp(App):
    """``NNStepApp(scenario)``: a bundled name, a path, a loaded :class:`Scenario`, or
    None for the note's network."""

    CSS_PATH = "app.tcss"
    TITLE = "nnstep"
    COMMANDS = App.COMMANDS | {NNStepCommands}
    BINDINGS = bindings()

    def __init__(self, scenario: str | Path | Scenario | None = None) -> None:
        super().__init__()
        self.scenario_arg = scenario
        self.dbg: Debugger | None = None
        self.book: FormulaBook | None = None
        self.network_model: NetworkModel | None = None
        self.load_error: BaseException | None = None
        self.view = "symbols"
        self.shown_op = 0  # the op whose formula is shown (the program's selection)
        self.playing = False
        self.speed_index = SPEEDS.index(4)
        self._play_timer = None
        self._play_last = 0.0
        self._play_credit = 0.0
        self.busy = ""  # what a worker is running, '' when idle
        self._cancel = False
        self._job: background.Job | None = None  # opening a scenario, off the UI thread
        self._run_start = (0.0, 0)  # when the run started, and where (t)
        self._run_losses: list[float] = []  # epoch losses seen while a run goes on
        self._status_width = 80  # the room the status text had last (for the worker)
        self.term_width = 120  # the terminal's width, as the last resize said
        self._losses: list[float] = []
        self._losses_done = 0
        self.last_stop: Stop | None = None
        self.last_run_threaded = False  # whether the last run went to a worker
        self._bindings_shown: tuple | None = None
        self.message = ""
        self.message_short = ""  # the message for a narrow status bar

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Vertical(id="panes"):
            with Horizontal(id="top"):
                yield ProgramView(id="program")
                yield FormulaView(id="formula")
            with Horizontal(id="bottom"):
                yield NetworkView(id="network")
                yield ValuesView(id="values")
        yield ErrorView(id="error")
        # in the flow above the footer (both docked at the bottom would overlap)
        with Horizontal(id="run"):
            yield Label("", id="run-label")
            yield ProgressBar(total=1.0, show_eta=False, id="run-progress")
            yield Label(" esc stops", id="run-hint")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self._apply_width()
        self.query_one("#program").border_title = "Program"
        self.query_one("#formula").border_title = "Formula"
        self.query_one("#network").border_title = "Network"
        self.query_one("#values").border_title = "Values"
        self.open_scenario(self.scenario_arg)

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

    # ------------------------------------------------------------------ refresh

    def refresh_panes(self) -> None:
        """Bring every pane up to the debugger's position."""
        dbg = self.dbg
        if dbg is None:
            return
        self._sync_losses()
        program = self.query_one(ProgramView)
        program.sync()
        sample = dbg.sample
        inputs = ", ".join(f"{n} = {v:g}" for n, v in zip(dbg.program.inputs, sample.x))
        # a sample's name is text from the file: never markup, never raw control characters
        title = visible(f"Program · {sample.name}" + (f" ({inputs})" if inputs else ""))
        if program.border_title != title:  # setting a border title repaints the whole pane
            program.border_title = Content(title)
        self.shown_op = program.selected
        self.query_one(ValuesView).sync()
        net = self.query_one(NetworkView)
        assert self.network_model is not None
        net.show(self.network_model.scene(dbg))
        self.update_formula(reset=True)
        self.update_status()
        self.update_bindings()

    def update_status(self) -> None:
        dbg = self.dbg
        if dbg is None:
            return
        bar = self.query_one(StatusBar)
        extra, short = self.message, self.message_short or self.message
        if self.playing:
            speed = f"{SPEEDS[self.speed_index]:g} op/s"
            extra = f"▶ playing {speed}" + (f" · {extra}" if extra else "")
            short = f"▶ {speed}" + (f" · {short}" if short else "")
        bar.show(lambda width: status_text(dbg, width, extra, short), self._losses)

    def _sync_losses(self) -> None:
        dbg = self.dbg
        if dbg is None or self._losses_done == dbg.epochs_done:
            return
        self._losses = loss_history(dbg)
        self._losses_done = dbg.epochs_done

    @property
    def narrow(self) -> bool:
        return self.term_width < NARROW

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: the app's own may still be the previous one here
        self._apply_width(event.size.width)
        if self.dbg is not None and not self.busy:
            self.call_after_refresh(self._after_resize)

    def _apply_width(self, width: int | None = None) -> None:
        self.term_width = self.size.width if width is None else width
        narrow = self.narrow
        self.screen.set_class(narrow, "-narrow")
        if not narrow:
            self.screen.remove_class("-show-values")
        self.update_bindings()

    def _after_resize(self) -> None:
        if self.dbg is not None and not self.busy:
            self.query_one(ValuesView).sync()
            net = self.query_one(NetworkView)
            net.show(net.scene)  # the new size may want the heat map instead (or back)
            self.query_one(ProgramView).sync()
            self.query_one(ProgramView).select(self.shown_op, announce=False)
            self.update_formula(reset=False)
            self.update_status()

    # ------------------------------------------------------------------ actions

    def action_command_palette(self) -> None:
        from .screens.palette import NNStepPalette

        if self.use_command_palette and not NNStepPalette.is_open(self):
            self.push_screen(NNStepPalette(id="--command-palette"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return bool(self.busy)
        if action == "toggle_values":
            return self.narrow and self.dbg is not None
        if action == "zoom":
            return self.dbg is not None
        if action in ("quit", "help", "open") and not self.busy:
            return True
        if action not in MOVES and action != "open":
            return True
        if self.dbg is None:
            return False if action != "open" else True
        if self.busy:
            return None
        dbg = self.dbg
        if action in ("back", "restart"):
            return None if dbg.at_start else True
        if action in ("step", "finish"):
            return None if dbg.at_end else True
        if action == "play":
            return None if dbg.at_end and not self.playing else True
        return True

    def _binding_state(self) -> tuple:
        dbg = self.dbg
        if dbg is None:
            return (None, bool(self.busy), footer_tier(self.term_width))
        return (dbg.at_start, dbg.at_end, bool(self.busy), self.playing, footer_tier(self.term_width), id(dbg))

    def update_bindings(self) -> None:
        """Refresh the footer only when a key's enabled state can have changed (the
        footer recomposes on every refresh, which would make each step slow)."""
        state = self._binding_state()
        if state != self._bindings_shown:
            self._bindings_shown = state
            self.refresh_bindings()

    def allowed(self, action: str) -> bool:
        name = action.split("(", 1)[0]
        return self.check_action(name, ()) is True

    def moved(self, message: str = "", short: str = "") -> None:
        """The debugger moved: every pane follows; ``message`` (``short`` where the
        status bar is narrow) is shown in the status bar until the next move."""
        self.message = message
        self.message_short = short
        self.refresh_panes()

    def action_step(self) -> None:
        if self.allowed("step"):
            self.dbg.step()  # type: ignore[union-attr]
            self.moved()

    def action_back(self) -> None:
        if self.allowed("back"):
            self.dbg.back()  # type: ignore[union-attr]
            self.moved()

    def action_restart(self) -> None:
        if self.allowed("restart"):
            self.stop_playing()
            self.dbg.restart()  # type: ignore[union-attr]
            self.moved("restarted")

    def action_finish(self, what: str) -> None:
        if not self.allowed("finish"):
            return
        dbg = self.dbg
        assert dbg is not None
        self.stop_playing()
        K, M = dbg.op_count, dbg.sample_count
        method, span, label = {
            "phase": (dbg.finish_phase, K, "finishing the phase"),
            "sample": (dbg.finish_sample, K, "finishing the sample"),
            "epoch": (dbg.finish_epoch, K * M, "finishing the epoch"),
            "continue": (dbg.run_to_end, dbg.total - dbg.t, "continuing"),
        }[what]
        if span <= SYNC_LIMIT:
            self.last_run_threaded = False
            self.finished(method())
        else:
            self.run_in_worker(lambda cancel, progress: method(cancel=cancel, progress=progress), label)

    def goto(self, t: int, label: str = "going there") -> None:
        dbg = self.dbg
        assert dbg is not None
        self.stop_playing()
        K = dbg.op_count
        here, there = (dbg.t - 1) // K if dbg.t else 0, (t - 1) // K if t else 0
        if t >= dbg.t and t - dbg.t <= SYNC_LIMIT or t < dbg.t and here - there <= 1:
            dbg.goto(t)  # near, or back into this sample or the one before (kept whole)
            self.moved()
        elif t < dbg.t:  # further back: may replay many samples from a checkpoint
            self.run_in_worker(lambda cancel, progress: Stop("target") if dbg.goto(t, cancel=cancel)
                               else Stop("cancelled"), "going back", determinate=False)
        else:  # far ahead: a run without breakpoints, with progress, interruptible
            self.run_in_worker(lambda cancel, progress: dbg.run_until(t, breakpoints=False, cancel=cancel,
                                                                      progress=progress), label)

    def finished(self, stop: Stop) -> None:
        self.last_stop = stop
        detail = visible(stop.detail)
        text = STOP_TEXT.get(stop.reason, "").format(detail=detail)
        self.moved(text, STOP_SHORT.get(stop.reason, "").format(detail=detail))
        if stop.reason in ("breakpoint", "condition", "nonfinite", "end"):
            self.notify(text[:1].upper() + text[1:], title="Stopped", timeout=3, markup=False)
        elif stop.reason == "cancelled":
            self.notify("Interrupted", timeout=3, markup=False)

    # -- long runs ----------------------------------------------------------------

    def run_in_worker(self, job, label: str, *, determinate: bool = True) -> None:
        """Run ``job(cancel, progress)`` (which returns a :class:`Stop`) in a thread
        worker; the run bar shows how far it got, esc stops it where it is."""
        self.last_run_threaded = True
        self._cancel = False
        self._run_start = (time.monotonic(), self.dbg.t if self.dbg is not None else 0)
        self._run_losses = list(self._losses)
        self._status_width = self.query_one(StatusBar).text_width
        self._begin_busy(label, determinate=determinate)
        self._run_job(job, label)

    def _begin_busy(self, label: str, *, determinate: bool) -> None:
        self.busy = label
        self.query_one("#run-label", Label).update(Text(f"{label}… "))
        self.query_one(ProgressBar).update(total=1.0 if determinate else None, progress=0.0)
        self.query_one("#run").display = True
        self.update_bindings()

    @work(thread=True, exclusive=True, group="run", exit_on_error=False, name="run")
    def _run_job(self, job, label: str) -> None:
        worker = get_current_worker()
        dbg = self.dbg
        assert dbg is not None
        last = [time.monotonic()]

        def cancel() -> bool:
            return self._cancel or worker.is_cancelled or not self.is_running

        def progress(fraction: float) -> None:
            # called often (every few samples): a message at most 5 times a second
            now = time.monotonic()
            if now - last[0] < 0.2:
                return
            last[0] = now
            done = dbg.epochs_done
            loss = dbg.epoch_loss(done - 1) if done else None  # a few samples replayed at most
            status = status_text(dbg, self._status_width, label + "…")
            self.post_message(RunProgress(fraction, dbg.t, status, loss, done))

        stop = job(cancel, progress)
        losses = loss_history(dbg)  # here, off the UI thread: may replay from checkpoints
        # a message, not call_from_thread: that would wait forever if the app is closing
        self.post_message(RunDone(stop, losses, dbg.epochs_done))

    def on_run_progress(self, message: RunProgress) -> None:
        dbg = self.dbg
        if not self.busy or dbg is None:
            return
        self.query_one(ProgressBar).update(progress=message.fraction)
        self.query_one("#run-label", Label).update(Text(self._progress_text(dbg, message)))
        if message.loss is not None and message.done > self._losses_done:
            self._run_losses.append(message.loss)
            if len(self._run_losses) > 2 * SPARK_POINTS:
                self._run_losses = self._run_losses[::2]
        self.query_one(StatusBar).show(message.status, self._run_losses)

    def _progress_text(self, dbg: Debugger, message: RunProgress) -> str:
        """``continuing… epoch 1,234/10,000,000 · 5,120 epochs/s · 32 min left``."""
        started, t0 = self._run_start
        elapsed = max(1e-9, time.monotonic() - started)
        per_epoch = dbg.op_count * dbg.sample_count
        epochs_per_s = (message.t - t0) / per_epoch / elapsed
        epoch = min(dbg.epochs, message.t // per_epoch + 1)
        if epochs_per_s >= 1:
            rate = f"{epochs_per_s:,.0f} epochs/s"
        else:
            rate = f"{epochs_per_s * dbg.sample_count:,.1f} samples/s"
        f = message.fraction
        left = elapsed * (1 - f) / f if f > 0 else None
        text = f"{self.busy}… epoch {epoch:,}/{dbg.epochs:,} · {rate}"
        return text + (f" · {duration(left)} left " if left is not None else " ")

    def on_run_done(self, message: RunDone) -> None:
        self._end_busy()
        self._losses = list(message.losses)
        self._losses_done = message.done
        self.finished(message.stop)

    def _end_busy(self) -> None:
        self.busy = ""
        self.query_one("#run").display = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "run" and event.state == WorkerState.ERROR:
            self._end_busy()
            self.notify(visible(f"The run failed: {event.worker.error}"), severity="error", timeout=8, markup=False)
            self.moved("run failed")

    def action_interrupt(self) -> None:
        if self._job is not None:
            self._abandon_open()
        elif self.busy:
            self._cancel = True
            self.query_one("#run-label", Label).update("stopping… ")

    # -- play ---------------------------------------------------------------------

    def action_play(self) -> None:
        if self.playing:
            self.stop_playing()
            self.update_status()
            self.update_bindings()
            return
        if not self.allowed("play"):
            return
        self.playing = True
        self._play_last = time.monotonic()
        self._play_credit = 1.0  # the first op at once
        self._play_tick()
        if self.playing:
            self._play_timer = self.set_interval(1 / 30, self._play_tick)
        self.update_status()

    def stop_playing(self) -> None:
        self.playing = False
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None

    def _play_tick(self) -> None:
        dbg = self.dbg
        if dbg is None or not self.playing or self.busy:
            self.stop_playing()
            return
        now = time.monotonic()
        self._play_credit += (now - self._play_last) * SPEEDS[self.speed_index]
        self._play_last = now
        n = int(self._play_credit)
        if n < 1:
            return
        self._play_credit -= n
        stop = dbg.run_until(dbg.t + min(n, SYNC_LIMIT))
        if stop.reason != "target":
            self.stop_playing()
            self.finished(stop)
        else:
            self.moved()

    def action_speed(self, delta: int) -> None:
        if self.dbg is None:
            return
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + delta))
        self.notify(f"play speed {SPEEDS[self.speed_index]:g} ops per second", timeout=1.5, markup=False)
        self.update_status()

    # -- breakpoints, go to, views ------------------------------------------------

    def action_toggle_breakpoint(self) -> None:
        if not self.allowed("toggle_breakpoint"):
            return
        program = self.query_one(ProgramView)
        name = self.dbg.ops[program.selected].name  # type: ignore[union-attr]
        self.dbg.toggle_breakpoint(name)  # type: ignore[union-attr]
        program.refresh()  # the gutter shows it

    def palette_breakpoint(self, name: str) -> None:
        if self.allowed("toggle_breakpoint"):
            on = self.dbg.toggle_breakpoint(name)  # type: ignore[union-attr]
            self.query_one(ProgramView).refresh()
            self.notify(f"breakpoint {'set on' if on else 'removed from'} {name}", timeout=2, markup=False)

    def action_clear_breakpoints(self) -> None:
        if self.allowed("clear_breakpoints"):
            self.dbg.clear_breakpoints()  # type: ignore[union-attr]
            self.query_one(ProgramView).refresh()
            self.notify("all breakpoints cleared", timeout=2, markup=False)

    def action_conditions(self) -> None:
        if self.allowed("conditions"):
            self.push_screen(BreakpointsScreen(self.dbg), lambda _: self.query_one(ProgramView).refresh())  # type: ignore[arg-type]

    def action_goto(self) -> None:
        if not self.allowed("goto"):
            return

        def done(result: tuple[int, int, int] | None) -> None:
            if result is not None and self.dbg is not None:
                e, s, o = result
                dbg = self.dbg
                self.goto((e * dbg.sample_count + s) * dbg.op_count + o + 1)

        self.push_screen(GotoScreen(self.dbg), done)  # type: ignore[arg-type]

    def palette_jump_op(self, index: int) -> None:
        if self.allowed("goto"):
            dbg = self.dbg
            assert dbg is not None
            self.goto((dbg.sample_global if dbg.t < dbg.total else dbg.sample_global - 1) * dbg.op_count
                      + index + 1)

    def palette_jump_sample(self, sample: int) -> None:
        if self.allowed("goto"):
            dbg = self.dbg
            assert dbg is not None
            self.goto((dbg.epoch * dbg.sample_count + sample) * dbg.op_count + 1)

    def on_program_view_jump(self, message: ProgramView.Jump) -> None:
        self.palette_jump_op(message.index)

    def on_program_view_selected(self, message: ProgramView.Selected) -> None:
        self.shown_op = message.index
        self.update_formula(reset=True)

    def action_cycle_view(self) -> None:
        if self.allowed("cycle_view"):
            self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
            self.update_formula(reset=True)

    def action_toggle_heatmap(self) -> None:
        if self.allowed("toggle_heatmap"):
            net = self.query_one(NetworkView)
            net.compact = not net.compact
            net.show(net.scene)

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        else:
            target = screen.focused if screen.focused is not None else self.query_one(ProgramView)
            screen.maximize(target, container=False)
        self.call_after_refresh(self._after_resize)

    def action_toggle_values(self) -> None:
        if self.narrow:
            self.screen.toggle_class("-show-values")
            self.call_after_refresh(self._after_resize)

    def action_open(self) -> None:
        if self.busy:
            return

        def done(result: tuple[str, Scenario] | None) -> None:
            if result is not None:
                self.open_scenario(result[1])  # its program is built off the UI thread

        self.push_screen(OpenScreen(), done)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def palette_action(self, action: str) -> None:
        """Run a key's action from the command palette, if the key could act now."""
        if self.allowed(action):
            self.call_later(self.run_action, action)
        else:
            self.bell()
            self.notify("not available right now", timeout=2, markup=False)

    async def action_quit(self) -> None:
        self._cancel = True
        if self._job is not None:
            self._job.cancel()
        self.stop_playing()
        self.exit()

    # ------------------------------------------------------------------ for tests

    def pane_texts(self) -> dict[str, str]:
        """Every pane's full content as plain text (what a test compares)."""
        out = {
            "status": self.query_one(StatusBar).plain,
            "program": "\n".join(self.query_one(ProgramView).styled_lines()),
            "formula": self.query_one(FormulaView).plain,
            "network": self.query_one(NetworkView).plain(),
            "values": "\n".join(self.query_one(ValuesView).styled_lines()),
        }
        return out
