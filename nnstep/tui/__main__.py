"""``python -m nnstep.tui [SCENARIO]``: run the TUI without the CLI."""

import sys

from .app import NNStepApp

NNStepApp(sys.argv[1] if len(sys.argv) > 1 else None).run()
