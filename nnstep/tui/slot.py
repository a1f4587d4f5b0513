"""The bottom-left slot: the network drawing, or one of the other views.

Each view (loss curve, decision boundary, matrix form, predictions, …) is a widget
in its own file under :mod:`nnstep.tui.components` that satisfies :class:`SlotView`;
registering it here gives it a place in the slot.  Its key (in :mod:`.keys`, action
``show_view('<id>')``) shows it in place of the network, the same key again brings the
network back.  While a view is shown the app calls its :meth:`SlotView.sync` after
every move (and the network is not redrawn), and :meth:`SlotView.sync_run` while a
long run goes on (throttled by the app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.widget import Widget

    from nnstep.debugger import Debugger

#: The slot's default view: the network drawing (or heat map, or formula-graph table).
NETWORK = "network"


class SlotView(Protocol):
    """What a view in the slot offers the app."""

    def sync(self, dbg: Debugger) -> None:
        """Show the debugger's current state (called after every move while shown)."""

    def sync_run(self, losses: list[float], params: dict[str, float]) -> None:
        """A long run goes on in a worker (don't read the debugger: it is moving):
        ``losses`` are the finished epochs' losses so far (thinned when long), ``params``
        the parameters at the start of the worker's current sample.  Called on the UI
        thread at most five times a second; views may ignore it."""


@dataclass(frozen=True)
class SlotSpec:
    id: str  # widget id and the argument of show_view
    title: str  # border title
    make: Callable[[str], Widget]  # make(id) -> the widget


def slot_views() -> tuple[SlotSpec, ...]:
    """The registered views, in the order of their keys (imported here, at compose time)."""
    from .components.boundary import Boundary
    from .components.health import HealthView
    from .components.losscurve import LossCurve
    from .components.matrix import MatrixView
    from .components.predictions import PredictionsView

    return (
        SlotSpec("loss", "Loss curve", LossCurve),
        SlotSpec("boundary", "Decision boundary", Boundary),
        SlotSpec("predictions", "Predictions", lambda id: PredictionsView(id=id)),
        SlotSpec("health", "Health", lambda id: HealthView(id=id)),
        SlotSpec("matrix", "Matrix form", lambda id: MatrixView(id=id)),
    )
