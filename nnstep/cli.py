"""The ``nnstep`` command: the TUI, plus a headless CLI for scripts and tests.

Only argparse is imported up front; the engine, SymPy and Textual are imported
by the subcommand that needs them, so ``nnstep --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

COMMANDS = ("list", "check", "trace", "train", "compare", "serve", "predict", "export")

DESCRIPTION = """\
A step debugger for neural-network training: backpropagation one scalar
operation at a time, each value next to the formula SymPy derived for it.

  nnstep [SCENARIO]            open the debugger (default: the study note's network)
  nnstep list                  bundled scenarios
  nnstep check FILE...         validate scenario files
  nnstep trace [SCENARIO]      print the executed ops with values and formulas
  nnstep train [SCENARIO]      train headlessly; print the loss after every epoch
  nnstep predict [SCENARIO]    train, then print each sample's prediction (and new inputs')
  nnstep export [SCENARIO]     write one training step as a worked example (markdown, latex, html)

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
    # the debugger's own flags (issue #14 item 7), counting from 1 like everything shown
    top.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
    top.add_argument("--epochs", type=_epochs(1), metavar="N", help="epochs to train (default: the scenario's)")
    top.add_argument("--at", type=_at, metavar="EPOCH:SAMPLE:OP",
                     help="open right after this op, e.g. 1:2:d_L_d_w1 or 1:2:25 (each counts from 1)")
    top.add_argument("--session", metavar="FILE",
                     help="restore a saved session (ctrl+s in the debugger): breakpoints, conditions, watches, "
                          "what-if edits and the position; SCENARIO defaults to the session's")
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
        span.add_argument("--epochs", type=_epochs(1), metavar="N", help="trace every sample of the first N epochs")
        span.add_argument("--samples", type=_positive, metavar="N", help="trace the first N samples (default 1)")
        span.add_argument("--steps", type=_positive, metavar="N", help="trace the first N ops")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--format", choices=("text", "jsonl", "csv", "markdown"), default="text")
    elif command == "train":
        p.description = "Train without stepping; print the loss after every epoch and the final parameters."
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--epochs", type=_epochs(0), metavar="N",
                       help="epochs to train (default: the scenario's); 0 prints the initial parameters")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "compare":
        p.description = ("Run your own training program (this executes it) beside nnstep and name the first "
                         "line whose value differs. Exit 0: all agree; 1: a difference; 2: an error.")
        p.add_argument("program", metavar="PROGRAM.py", help="your Python training program")
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        span = p.add_mutually_exclusive_group()
        span.add_argument("--epochs", type=_positive, metavar="N", help="compare N epochs (default 1)")
        span.add_argument("--samples", type=_positive, metavar="N", help="compare the first N samples")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters your program does not have")
        p.add_argument("--map", action="append", default=[], metavar="NAME=YOURS,...",
                       help="nnstep name = yours, e.g. d_L_d_ypred=dL_dy,w1=self.W1[0, 0]")
        p.add_argument("--format", choices=("text", "json"), default=None)
    elif command == "serve":
        p.description = ("Serve the debugger to browsers (needs the web extra). The first line printed is the "
                         "URL to open, with its access token; every browser tab gets its own debugger.")
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--host", default="127.0.0.1", metavar="H",
                       help="address to listen on (default 127.0.0.1, this computer only; others print a warning)")
        p.add_argument("--port", type=_port, default=8000, metavar="P", help="port (default 8000; 0: any free port)")
        p.add_argument("--sessions", type=_sessions, default=4, metavar="N",
                       help="at most N debuggers at once (default 4, at most 64)")
    elif command == "predict":
        p.description = ("Train without stepping, then print every sample's prediction, its loss and (for "
                         "classification) whether it is right, the accuracy and mean loss, and the predictions "
                         "for new inputs.")
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--epochs", type=_epochs(0), metavar="N",
                       help="epochs to train first (default: the scenario's); 0: the initial parameters")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE,...",
                       help="a new input to predict, every input named, e.g. x1=-7,x2=-3 (or x1=128-135); "
                            "repeat for more")
        p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    elif command == "export":
        p.description = ("Write one training step as a worked example (a handout): the parameters, every op's "
                         "formula, the same with the sample's numbers and its value, grouped by phase; then the "
                         "loss before and after.")
        p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: note-network)")
        p.add_argument("--epoch", type=_epochs(1), default=1, metavar="E", help="the epoch, from 1 (default 1)")
        p.add_argument("--sample", type=_positive, default=1, metavar="S", help="the sample, from 1 (default 1)")
        p.add_argument("--seed", type=_seed, metavar="S", help="seed for parameters the scenario does not give")
        p.add_argument("--format", choices=("markdown", "latex", "html"), default="markdown")
        p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
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
        raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _epochs(least: int):
    """An epoch count from ``least`` up to the limit a scenario file has (``training.epochs``)."""

    def parse(text: str) -> int:
        from .scenario import MAX_EPOCHS

        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a whole number") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {n}")
        if n > MAX_EPOCHS:
            raise argparse.ArgumentTypeError(f"must be at most {MAX_EPOCHS} (the limit of training.epochs), not {n}")
        return n

    return parse


def _shown(text: str) -> str:
    """A flag's text, cut short and with control characters escaped, for an error line."""
    from .text import visible

    text = visible(text)
    return text if len(text) <= 40 else text[:39] + "…"


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a whole number") from None
    if not 0 <= n < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, not {n}")
    return n


def _at(text: str):
    """``--at EPOCH:SAMPLE:OP``: its form here; its range once the scenario is loaded (:func:`_tui`)."""
    from .position import parse_at

    try:
        return parse_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        if ns.session is not None:
            if ns.seed is not None or ns.epochs is not None or ns.at is not None:
                _parser().error("argument --session: the session sets the seed, epochs and position; "
                                "give --seed, --epochs or --at without it")
            return _tui_session(ns.scenario, ns.session)
        return _tui(ns)
    except UsageError as exc:
        print(_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - user-caused errors only; others re-raise below
        from .errors import NNStepError

        if isinstance(exc, NNStepError):
            print(_line(exc), file=sys.stderr)
            return 2
        raise


def _line(exc: Exception) -> str:
    """An error as one line per problem, every control character escaped (it may quote a file)."""
    from .text import visible

    errors = getattr(exc, "errors", None) or [exc]
    return "\n".join(visible(str(e)) for e in errors)


def _run(command: str, ns: argparse.Namespace) -> int:
    if command == "list":
        from .scenario import iter_descriptions
        from .text import visible

        rows = list(iter_descriptions())
        width = max(len(r[0]) for r in rows) if rows else 0
        for stem, name, description in rows:
            print(f"{visible(stem):<{width}}  {visible(name)}: {visible(description)}")
        return 0
    if command == "check":
        from .build import build_program
        from .errors import NNStepError
        from .scenario import load_scenario
        from .text import visible

        bad = 0
        for f in ns.files:
            try:
                build_program(load_scenario(f))
            except NNStepError as exc:
                print(_line(exc), file=sys.stderr)
                bad += 1
            else:
                print(f"{visible(f)}: ok")
        return 2 if bad else 0
    if command in ("trace", "train"):
        from .scenario import load_scenario
        from .trace import seed_note, trace, train_report

        sc = load_scenario(ns.scenario)
        note = seed_note(sc, ns.seed)
        if note:
            print(note, file=sys.stderr)
        if command == "trace":
            trace(sc, epochs=ns.epochs, samples=ns.samples, steps=ns.steps, seed=ns.seed,
                  fmt=ns.format, out=sys.stdout)
        else:
            train_report(sc, epochs=ns.epochs, seed=ns.seed, fmt=ns.format, out=sys.stdout)
        return 0
    if command == "compare":
        return _compare(ns)
    if command == "predict":
        return _predict(ns)
    if command == "export":
        return _export(ns)
    if command == "serve":
        from .serve import serve

        return serve(ns.scenario, host=ns.host, port=ns.port, sessions=ns.sessions)
    raise AssertionError(command)


def _compare(ns: argparse.Namespace) -> int:
    """``nnstep compare``: the report on stdout (or the TUI's compare view on a
    terminal); exit 0 when all agree, 1 at a difference."""
    import json

    from .compare import compare, format_text

    result = compare(ns.program, ns.scenario, seed=ns.seed, epochs=ns.epochs, samples=ns.samples,
                     mapping=ns.map)
    if ns.format is None and sys.stdout.isatty() and sys.stdin.isatty():
        from .tui.compare import CompareApp

        CompareApp(result).run()
        return 0 if result.agree else 1
    if ns.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_text(result))
    return 0 if result.agree else 1


def _predict(ns: argparse.Namespace) -> int:
    """``nnstep predict``: train, then the samples' predictions and the new inputs'."""
    from .errors import NNStepError
    from .scenario import load_scenario
    from .trace import predict_report, seed_note

    sc = load_scenario(ns.scenario)
    note = seed_note(sc, ns.seed)
    if note:
        print(note, file=sys.stderr)
    try:
        predict_report(sc, epochs=ns.epochs, seed=ns.seed, inputs=ns.input, fmt=ns.format, out=sys.stdout)
    except NNStepError as exc:
        raise exc.located(file="nnstep predict") from None
    return 0


def _export(ns: argparse.Namespace) -> int:
    """``nnstep export``: the handout on stdout, or in ``-o FILE``."""
    from .errors import NNStepError
    from .export import export
    from .scenario import load_scenario
    from .trace import seed_note

    sc = load_scenario(ns.scenario)
    note = seed_note(sc, ns.seed)
    if note:
        print(note, file=sys.stderr)
    text = export(sc, epoch=ns.epoch, sample=ns.sample, seed=ns.seed, fmt=ns.format)
    if ns.output is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(ns.output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as err:
        raise NNStepError(f"cannot write the handout: {err.strerror or err}", file=ns.output) from None
    return 0


def _tui(ns: argparse.Namespace) -> int:
    scenario = ns.scenario
    if ns.at is not None:  # checked against the scenario before the debugger opens
        from .debugger import Debugger
        from .position import at_step

        dbg = Debugger(scenario, seed=ns.seed, epochs=ns.epochs)  # a bad file: its one-line error
        try:
            at_step(dbg, ns.at)
        except ValueError as exc:
            _parser().error(f"argument --at: {exc}")
        scenario = dbg.scenario  # loaded once
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print("nnstep: the debugger needs a terminal; for scripts use 'nnstep trace' or 'nnstep train'",
              file=sys.stderr)
        return 2
    try:
        from .tui import NNStepApp
    except ImportError as exc:  # pragma: no cover - the TUI ships with the package
        print(f"nnstep: the TUI is not available ({exc})", file=sys.stderr)
        return 2
    NNStepApp(scenario, seed=ns.seed, epochs=ns.epochs, at=ns.at).run()
    return 0


def _tui_session(scenario: str | None, path: str) -> int:
    """``nnstep [SCENARIO] --session FILE``: the session is read and replayed first, so a
    damaged one is one line on stderr (exit 2) before any screen opens."""
    from . import session
    from .scenario import load_scenario

    saved = session.load(path)
    dbg = session.restore(saved, load_scenario(scenario) if scenario is not None else None)
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print(f"{_line_text(path)}: session ok; the debugger needs a terminal to show it", file=sys.stderr)
        return 2
    from .tui import NNStepApp

    app = NNStepApp(scenario if scenario is not None else session.scenario_source(saved))
    app.use_session(dbg, list(saved.watches), path)
    app.run()
    return 0


def _line_text(text: str) -> str:
    from .text import visible

    return visible(text)


if __name__ == "__main__":
    sys.exit(main())
