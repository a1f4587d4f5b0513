"""The served app's side of ``nnstep serve``: it lives in :mod:`nnstep.tui.served` (the TUI
never imports :mod:`nnstep.serve`); the names are here too for the server."""

from nnstep.tui.served import PARENT_VAR, ROOTS_VAR, guard, inside_roots, open_refusal, open_roots

__all__ = ["PARENT_VAR", "ROOTS_VAR", "guard", "inside_roots", "open_refusal", "open_roots"]
