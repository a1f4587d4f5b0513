"""The ``nnstep`` command: the TUI, plus a headless CLI for scripts and tests.

Only argparse is imported up front; the engine, SymPy and Textual are imported
by the subcommand that needs them, so ``nnstep --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

COMMANDS = ("list", "check", "trace", "train", "serve")

DESCRIPTION = """\
A step debugger for neural-network training: backpropagation one scalar
operation at a time, each value next to the formula SymPy derived for it.

  nnstep [SCENARIO]            open the debugger (default: the study note's network)
  nnstep list                  bundled scenarios
  nnstep check FILE...         validate scenario files
  nnstep trace [SCENARIO]      print the executed ops with values and formulas
  nnstep train [SCENARIO]      train headlessly; print the loss after every epoch

SCENARIO is a path to a .toml file or the name of a bundled scenario.
Run 'nnstep COMMAND --help' for a command's options."""


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _parser() -> _Parser:
    top = _Parser(prog="nnstep", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="store_true", help="print the version and exit")
    top.add_argument("scenario", nargs="?", help="scenario file or bundled name to open in the debugger")
    return top


def _sub(command: str) -> _Parser:
    p = _Parser(prog=f"nnstep {command}")
    if command == "list":
        p.description = "List the bundled scenarios with their descriptions."
    elif command == "check":
        p.description = "Validate scenario files: exit 0, or one line per problem and exit 2."
        p.add_argument("files", nargs="+", metavar="FILE")
    elif command == "trace":
        p.description = "Print the executed ops in order (default: one sample's training step)."
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        span = p.add_mutually_exclusive_group()
        span.add_argument("--epochs", type=_positive, metavar="N", help="trace every sample of the first N epochs")
        span.add_argument("--samples", type=_positive, metavar="N", help="trace the first N samples (default 1)")
        span.add_argument("--steps", type=_positive, metavar="N", help="trace the first N ops")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--format", choices=("text", "jsonl", "csv", "markdown"), default="text")
    elif command == "train":
        p.description = "Train without stepping; print the loss after every epoch and the final parameters."
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--epochs", type=_positive, metavar="N", help="epochs to train (default: the scenario's)")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "serve":
        p.description = ("Serve the debugger to browsers (needs the web extra). The first line printed is the "
                         "URL to open, with its access token; every browser tab gets its own debugger.")
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--host", default="127.0.0.1", metavar="H",
                       help="address to listen on (default 127.0.0.1, this computer only; others print a warning)")
        p.add_argument("--port", type=_port, default=8000, metavar="P", help="port (default 8000; 0: any free port)")
        p.add_argument("--sessions", type=_sessions, default=4, metavar="N",
                       help="at most N debuggers at once (default 4, at most 64)")
    return p


def _port(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {n}")
    return n


def _sessions(text: str) -> int:
    n = _positive(text)
    if n > 64:
        raise argparse.ArgumentTypeError(f"must be at most 64, not {n}")
    return n


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= n < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, not {n}")
    return n


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            command = args.pop(0)
            ns = _sub(command).parse_args(args)
            return _run(command, ns)
        ns = _parser().parse_args(args)
        if ns.version:
            from . import __version__

            print(f"nnstep {__version__}")
            return 0
        return _tui(ns.scenario)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - user-caused errors only; others re-raise below
        from .errors import NNStepError

        if isinstance(exc, NNStepError):
            print(exc, file=sys.stderr)
            return 2
        raise


def _run(command: str, ns: argparse.Namespace) -> int:
    if command == "list":
        from .scenario import iter_descriptions

        rows = list(iter_descriptions())
        width = max(len(r[0]) for r in rows) if rows else 0
        for stem, name, description in rows:
            print(f"{stem:<{width}}  {name}: {description}")
        return 0
    if command == "check":
        from .errors import NNStepError
        from .program import build_program
        from .scenario import load_scenario

        bad = 0
        for f in ns.files:
            try:
                build_program(load_scenario(f))
            except NNStepError as exc:
                print(exc, file=sys.stderr)
                bad += 1
            else:
                print(f"{f}: ok")
        return 2 if bad else 0
    if command == "trace":
        from .trace import trace

        trace(ns.scenario, epochs=ns.epochs, samples=ns.samples, steps=ns.steps, seed=ns.seed,
              fmt=ns.format, out=sys.stdout)
        return 0
    if command == "train":
        from .trace import train_report

        train_report(ns.scenario, epochs=ns.epochs, seed=ns.seed, fmt=ns.format, out=sys.stdout)
        return 0
    if command == "serve":
        from .serve import serve

        return serve(ns.scenario, host=ns.host, port=ns.port, sessions=ns.sessions)
    raise AssertionError(command)


def _tui(scenario: str | None) -> int:
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print("nnstep: the debugger needs a terminal; for scripts use 'nnstep trace' or 'nnstep train'",
              file=sys.stderr)
        return 2
    try:
        from .tui import NNStepApp
    except ImportError as exc:  # pragma: no cover - the TUI ships with the package
        print(f"nnstep: the TUI is not available ({exc})", file=sys.stderr)
        return 2
    NNStepApp(scenario).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
