"""A slot view whose rows are computed from the program and some parameters: on the
UI thread when that is cheap, otherwise in a background thread (the newest request
wins; an older one still running is abandoned, so esc or the next step never waits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..background import Job, JobDone, start
from .rows import SCROLL_BINDINGS, RowList

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


def parameters_where(dbg: Debugger) -> str:
    """Which parameters a view computed from, counting from 1: ``parameters at epoch 1,
    sample 2, op 7`` (or ``…, before its first op``)."""
    here = f"parameters at epoch {dbg.epoch + 1}, sample {dbg.sample_index + 1}"
    return f"{here}, op {dbg.op_index + 1}" if dbg.op_index >= 0 else f"{here}, before its first op"


class ComputedView(RowList, can_focus=True):
    BINDINGS = [*SCROLL_BINDINGS]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._job: Job | None = None
        self.pending = False  # a computation is running in the background

    def on_show(self) -> None:
        """Shown in the slot: focused, so that its keys (and z, zoom) act on it at once."""
        self.focus()

    def sync_run(self, losses: list[float], params: dict[str, float]) -> None:
        """A long run goes on: recompute from its parameters (unless still computing)."""
        if getattr(self, "program", None) is not None and not self.pending:
            self._update(list(params.values()), "parameters during the run")

    def _update(self, params: list[float], where: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self, work: Callable[[], Any], cheap: bool) -> None:
        """Run ``work()`` and pass its result (or error) to :meth:`show_result`."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
        if cheap:
            try:
                result, error = work(), None
            except Exception as exc:  # shown by show_result, never a traceback
                result, error = None, exc
            self.pending = False
            self.show_result(result, error)
            return
        self.pending = True
        self._job = start(self, self.id or "view", work, self._done)

    def _done(self, result: Any, error: BaseException | None) -> None:
        self._job = None
        self.pending = False
        self.show_result(result, error)

    def on_job_done(self, message: JobDone) -> None:
        message.stop()
        message.deliver()

    def show_result(self, result: Any, error: BaseException | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
