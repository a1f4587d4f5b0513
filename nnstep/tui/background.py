"""Work that must not hold the UI thread and cannot be interrupted from inside:
opening a file (a FIFO or a device would block ``open`` for good), validating a
scenario and building its program (seconds for a large formula graph).

Such work runs in a daemon thread.  Cancelling a :class:`Job` abandons it: its
result is dropped when it arrives, and since the thread is a daemon, quitting the
app never waits for it (a Textual thread worker runs in the event loop's default
executor, whose threads the interpreter joins at exit).  Work that can be asked
to stop (runs, the replay of ``goto``) uses a Textual worker with a ``cancel``
hook instead, see :mod:`nnstep.tui.app`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump


@dataclass(eq=False)
class Job:
    """One piece of background work; ``done(result, error)`` runs on the UI thread
    unless the job was cancelled first."""

    label: str
    done: Callable[[Any, BaseException | None], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class JobDone(Message, bubble=False):
    """A background job finished (posted to the widget that started it, and handled
    there only)."""

    def __init__(self, job: Job, result: Any, error: BaseException | None) -> None:
        super().__init__()
        self.job = job
        self.result = result
        self.error = error

    def deliver(self) -> None:
        """Call the job's ``done`` unless it was cancelled (call from the handler)."""
        if not self.job.cancelled:
            self.job.done(self.result, self.error)


def start(target: MessagePump, label: str, work: Callable[[], Any],
          done: Callable[[Any, BaseException | None], None]) -> Job:
    """Run ``work()`` in a daemon thread; post :class:`JobDone` to ``target`` (whose
    ``on_job_done`` should call ``message.deliver()``) with its result or error."""
    job = Job(label, done)

    def run() -> None:
        try:
            result, error = work(), None
        except Exception as exc:  # shown by done(), never a traceback
            result, error = None, exc
        if not job.cancelled:
            target.post_message(JobDone(job, result, error))

    threading.Thread(target=run, name=f"nnstep: {label}", daemon=True).start()
    return job
