"""What the parts of the TUI may ask of the app at run time (``self.app``), as a Protocol:
they type the app with :class:`Host` instead of importing :mod:`nnstep.tui.app`, so no
TUI module imports the app but its entry points (no import cycles)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


class Host(Protocol):
    """The app as the command palette sees it."""

    dbg: Debugger | None

    def palette_action(self, action: str) -> None: ...

    def palette_jump_op(self, index: int) -> None: ...

    def palette_jump_sample(self, sample: int) -> None: ...

    def palette_breakpoint(self, name: str) -> None: ...

    def bundled_names(self) -> list[str]: ...

    def open_bundled(self, stem: str) -> None: ...

    def palette_edit(self, name: str, text: str) -> None: ...
