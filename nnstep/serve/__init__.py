"""``nnstep serve``: the debugger in a browser, for a classroom.

Built on textual-serve (the ``web`` extra): each browser tab that opens the page
gets its own ``python -m nnstep.tui`` process, whose screen reaches the page through
a websocket. What nnstep adds to it is in :mod:`nnstep.serve.server`: a random
access token, Host and Origin checks, bounded sessions and sizes, a command and
environment built here rather than from a request, children that end with their
connection and with the server, and a page with no external resources.

This module only checks that the extra is installed; it imports nothing heavy.
The served app's own side (the parent watchdog, the open roots) is
:mod:`nnstep.tui.served`, so the TUI never imports this package.
"""

from __future__ import annotations

from nnstep.errors import NNStepError

#: The textual-serve version the page template and the tests rely on (pinned by the extra).
TEXTUAL_SERVE_VERSION = "1.1.3"
INSTALL_HINT = "nnstep serve needs the web extra: pip install \"nnstep[web]\""


class ServeError(NNStepError):
    """``nnstep serve`` cannot start: a missing extra, a bad flag value, a busy port."""


def serve(scenario: str | None, *, host: str, port: int, sessions: int) -> int:
    """Run the server until SIGINT/SIGTERM; the URL to open is the first line printed."""
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise ServeError(INSTALL_HINT) from None
    from .server import run

    return run(scenario, host=host, port=port, sessions=sessions)
