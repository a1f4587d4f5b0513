"""``python -m nnstep.tui [SCENARIO]``: run the TUI without the CLI."""

import sys

from .app import NNStepApp
from .served import guard

guard()  # served by 'nnstep serve': end with the server, however it ends

NNStepApp(sys.argv[1] if len(sys.argv) > 1 else None).run()
