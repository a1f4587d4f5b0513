"""The loss curve: the epoch losses so far, plotted with textual-plotext.

Each point is a finished epoch's loss (the mean over the samples of each sample's
loss, with the parameters after that epoch), the same numbers as the status bar's
sparkline — at most :data:`.history.SPARK_POINTS` evenly spaced epochs,
which the app has already computed, so drawing never replays training.  A vertical
line marks where the debugger is (in epochs done: 1.5 is half way through epoch 2).
``L`` (with the view focused) or the palette switches the loss axis to a log scale;
``S`` adds each sample's loss with the parameters now, as dots on that line.
While a long run goes on, the curve grows
with the losses the run reports (at most five times a second).
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import RenderResult
from textual.binding import Binding
from textual_plotext import PlotextPlot

from nnstep.debugger import Debugger

from .history import SPARK_POINTS, history_epochs

#: Points kept while a run goes on before every other one is dropped.
RUN_POINTS = 2 * SPARK_POINTS
#: Per-sample losses are computed after a move only when that takes at most this many ops
#: (samples x forward and loss ops): two-moons 2,000 (about 1 ms); not iris, 10,650 (about 0.1 s).
PER_SAMPLE_OPS = 5_000


class LossCurve(PlotextPlot, can_focus=True):
    """The loss-curve view of the bottom-left slot (id ``loss``, key l)."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("L", "toggle_log", "log scale", show=False, tooltip="Loss curve: log scale on / off"),
        Binding("S", "toggle_samples", "samples", show=False,
                tooltip="Loss curve: each sample's loss with the parameters now, as dots on the line"),
    ]

    def __init__(self, id: str) -> None:
        super().__init__(id=id)
        self.log_scale = False
        self.epochs: list[int] = []  # finished epochs, counted from 1
        self.losses: list[float] = []  # their losses
        self.now = 0.0  # where the debugger is, in epochs done (1.5: half way through epoch 2)
        self.where = ""  # the same in words
        self.per_epoch = 0  # ops per epoch
        self._shown: tuple | None = None
        self._data = 0  # bumped when the points change
        self.per_sample = False  # show each sample's loss with the parameters now
        self.sample_losses: list[float] = []  # … those losses (empty when not shown)
        self.sample_note = ""  # why they are not shown, when asked for
        self._drawn: tuple[tuple, RenderResult] | None = None  # the last plot and what it showed

    # -- the SlotView protocol ---------------------------------------------------------

    def sync(self, dbg: Debugger) -> None:
        done = dbg.epochs_done
        key = (id(dbg), done, dbg.t, self.per_sample)
        if key == self._shown:
            return
        self._shown = key
        self._sample_losses(dbg)
        epochs = history_epochs(done)  # the app's status bar has asked for these already: cached
        losses = [dbg.epoch_loss(e) for e in epochs]
        if [e + 1 for e in epochs] != self.epochs or losses != self.losses:
            self.epochs, self.losses = [e + 1 for e in epochs], losses
            self._data += 1
        self.per_epoch = dbg.op_count * dbg.sample_count
        self.now = dbg.t / self.per_epoch
        self.where = f"epoch {dbg.epoch + 1}/{dbg.epochs} sample {dbg.sample_index + 1}"
        self._update()

    def sync_run(self, losses: list[float], params: dict[str, float]) -> None:
        progress = getattr(self.app, "last_progress", None)
        dbg = getattr(self.app, "dbg", None)
        if progress is None or progress.loss is None or dbg is None:
            return
        self.per_epoch = dbg.op_count * dbg.sample_count  # fixed sizes: safe while it runs
        done = progress.done  # the run's last finished epoch, whose loss progress.loss is
        if not self.epochs or done > self.epochs[-1]:
            self.epochs.append(done)
            self.losses.append(progress.loss)
            if len(self.epochs) > RUN_POINTS:  # thin, keeping the last
                keep = sorted(set(range(len(self.epochs) - 1, -1, -2)))
                self.epochs = [self.epochs[i] for i in keep]
                self.losses = [self.losses[i] for i in keep]
            self._data += 1
        self.now = progress.t / self.per_epoch
        self.where = f"{self.now:,.1f} epochs done"
        if self.sample_losses:  # they belong to where the run started
            self.sample_losses = []
            self._data += 1
        self._shown = None  # the next sync redraws from the debugger
        self._update()

    # -- the log scale -----------------------------------------------------------------

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self._update()

    # -- per-sample losses -------------------------------------------------------------

    def action_toggle_samples(self) -> None:
        self.per_sample = not self.per_sample
        dbg = getattr(self.app, "dbg", None)
        if dbg is not None and not getattr(self.app, "busy", ""):
            self.sync(dbg)
        elif not self.per_sample:
            self.sample_losses = []
            self._data += 1
            self._update()

    def _sample_losses(self, dbg: Debugger) -> None:
        before = self.sample_losses
        self.sample_losses, self.sample_note = [], ""
        if self.per_sample:
            program = dbg.program
            if dbg.sample_count * program.loss_end > PER_SAMPLE_OPS:
                self.sample_note = (f"per-sample losses: {dbg.sample_count * program.loss_end:,} ops, "
                                    f"more than {PER_SAMPLE_OPS:,} per step")
            else:
                params, v = list(dbg.parameters().values()), program.new_slots()
                self.sample_losses = [program.sample_loss(params, i, v) for i in range(dbg.sample_count)]
        if self.sample_losses != before:
            self._data += 1

    # -- drawing -----------------------------------------------------------------------

    def drawn(self) -> tuple[list[int], list[float], list[int]]:
        """(epochs, losses) the plot draws — the finite ones, and on a log scale the
        positive ones — and the epochs left out."""
        keep = [i for i, v in enumerate(self.losses) if math.isfinite(v) and (v > 0 or not self.log_scale)]
        kept = set(keep)
        return ([self.epochs[i] for i in keep], [self.losses[i] for i in keep],
                [e for i, e in enumerate(self.epochs) if i not in kept])

    def _update(self) -> None:
        epochs, losses, left_out = self.drawn()
        parts = [f"│ now {self.where}" if self.where else ""]
        if losses:
            parts.append(f"last {epochs[-1]}: {losses[-1]:.6g}")
        if left_out:
            parts.append(f"{len(left_out)} not drawn ({'not finite or ≤ 0' if self.log_scale else 'not finite'})")
        if self.sample_losses:
            parts.append(f"• {len(self.sample_losses)} samples now")
        elif self.sample_note:
            parts.append(self.sample_note)
        parts.append("log (L)" if self.log_scale else "L: log")
        self.border_subtitle = " · ".join(p for p in parts if p)
        self.refresh()

    def render(self) -> RenderResult:
        epochs, losses, _ = self.drawn()
        if not epochs:
            if self.epochs:
                return Text("No finished epoch has a loss that can be drawn here.")
            return Text("No epoch has finished yet: the curve starts when epoch 1 is done (e finishes it).")
        right = max(self.now, epochs[-1], 2)
        # a step moves the line a little: plot again only when it moves by half a cell (plotext is slow)
        moved = round(self.now * 2 * self.size.width / max(epochs[-1], 2))  # in half cells, about
        key = (self._data, self.log_scale, self.size, self.app.theme, moved)
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        plt = self.plt
        plt.clear_figure()
        plt.plot(epochs, losses, marker="braille")
        plt.xlim(1, right)
        ticks = sorted({1 + round(i * (right - 1) / 4) for i in range(5)})  # whole epochs
        plt.xticks(ticks, [f"{t:,}" for t in ticks])
        plt.vline(self.now, "orange")
        dots = [v for v in self.sample_losses if math.isfinite(v) and (v > 0 or not self.log_scale)]
        if dots:
            plt.scatter([self.now] * len(dots), dots, marker="•", color="cyan")
        plt.yscale("log" if self.log_scale else "linear")
        plt.xlabel("epochs done")
        plt.ylabel("loss")
        result = super().render()
        self._drawn = (key, result)
        return result
