"""The Textual TUI: ``from nnstep.tui import NNStepApp; NNStepApp("note-network").run()``."""

from .app import NNStepApp

__all__ = ["NNStepApp"]
