"""Long runs, play and go-to: what moves the debugger far, off the UI thread when it is long.

:class:`Runs` is a part of :class:`nnstep.tui.app.NNStepApp` (a mixin it hosts).  A
run longer than :data:`SYNC_LIMIT` ops goes to a thread worker, which posts
:class:`RunProgress` (the run bar) and :class:`RunDone`; esc stops it where it is.
Going back further than the sample before replays from a checkpoint, in the worker.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from nnstep.debugger import Debugger, Stop
from nnstep.text import visible

from .components.history import SPARK_POINTS, history_epochs
from .components.status import StatusBar, status_text
from .slot import NETWORK, SlotView

#: Runs shorter than this many ops happen at once; longer ones in a worker.
SYNC_LIMIT = 20_000
#: Play speeds in ops per second.
SPEEDS = (0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
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
    return [dbg.epoch_loss(e) for e in history_epochs(dbg.epochs_done)]


class RunProgress(Message):
    """A run in the worker got this far: ``fraction`` of it done, ``t`` the debugger's
    position, ``status`` the status line and ``loss`` the last finished epoch's loss
    (both made in the worker, where the debugger's state is consistent), ``params`` the
    parameters at the start of the debugger's current sample."""

    def __init__(self, fraction: float, t: int, status: Text, loss: float | None, done: int,
                 params: dict[str, float]) -> None:
        super().__init__()
        self.params = params
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


class Runs:
    """Finishing, going to, long runs and play: hosted by the app (``self`` is the app)."""

    status_bar: StatusBar  # the app's (NNStepApp.__init__)

    #: The last progress message of the run going on (or of the last run).
    last_progress: RunProgress | None = None

    # -- finishing, going to -----------------------------------------------------

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
        self._run_done = self._losses_done  # the last finished epoch whose loss the sparkline has
        self._status_width = self.status_bar.text_width
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
            self.post_message(RunProgress(fraction, dbg.t, status, loss, done, dbg.old_parameters()))

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
        if message.loss is not None and message.done > self._run_done:  # each finished epoch once
            self._run_done = message.done
            self._run_losses.append(message.loss)
            if len(self._run_losses) > 2 * SPARK_POINTS:
                self._run_losses = self._run_losses[::2]
        self.status_bar.show(message.status, self._run_losses)
        self.last_progress = message  # a view's sync_run may read the epoch count it belongs to
        if self.slot != NETWORK:
            view: SlotView = self.query_one(f"#{self.slot}")  # type: ignore[assignment]
            view.sync_run(self._run_losses, message.params)

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
        # determinate again: an indeterminate bar animates (15 frames a second) even when hidden
        self.query_one(ProgressBar).update(total=1.0, progress=0.0)

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
