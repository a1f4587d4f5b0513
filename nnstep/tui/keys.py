"""The key map, in one place: the app's bindings, the footer and the help screen
are all made from :data:`KEYS`."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma separated
    action: str
    short: str  # footer
    help: str  # help screen and command palette
    shown: str = ""  # how the help screen writes the keys
    footer: bool = True
    group: str = ""
    min_width: int = 0  # the footer shows the key from this many columns up (? help always)


FINISH = Binding.Group("finish", compact=True)

KEYS: tuple[Key, ...] = (
    Key("n,right", "step", "next", "Next op: execute one scalar operation", "n  →"),
    Key("p,left", "back", "back", "Previous op: undo the last operation exactly", "p  ←"),
    Key("f", "finish('phase')", "phase", "Finish the current phase (forward, loss, backward, update)", "f",
        group="finish"),
    Key("s", "finish('sample')", "sample", "Finish the sample: run to its last update", "s", group="finish"),
    Key("e", "finish('epoch')", "epoch", "Finish the epoch: run through the remaining samples", "e",
        group="finish"),
    Key("c", "finish('continue')", "cont", "Continue to the next breakpoint, or the end of training", "c"),
    Key("space", "play", "play", "Play / pause: step automatically (stops at breakpoints)", "space", min_width=100),
    Key("plus", "speed(1)", "faster", "Play faster", "+", footer=False),
    Key("minus", "speed(-1)", "slower", "Play slower", "-", footer=False),
    Key("b", "toggle_breakpoint", "break", "Toggle a breakpoint on the selected op", "b", min_width=100),
    Key("v", "toggle_values", "values", "Narrow screens: show the values pane instead of the network (and back)",
        "v"),
    Key("question_mark", "help", "help", "This help", "?"),
    Key("q", "quit", "quit", "Quit", "q"),
    Key("B", "conditions", "cond", "Conditional breakpoints, e.g. abs(d_L_d_w1) > 0.04, and stop on NaN/inf", "B",
        min_width=120),
    Key("g", "goto", "goto", "Go to an epoch, sample and op", "g", min_width=100),
    Key("r", "restart", "restart", "Restart: back to the very first op (breakpoints are kept; p right after returns)",
        "r", min_width=120),
    Key("o", "open", "open", "Open another scenario (bundled or a file)", "o", min_width=120),
    Key("t", "cycle_view", "view", "Formula view: node symbols → expanded → LaTeX source", "t",
        min_width=120),
    Key("z", "zoom", "zoom", "Zoom the focused pane to the whole screen (tab moves focus), z again to restore",
        "z", footer=False),
    # the run bar says "esc stops" while a run goes on
    Key("escape", "interrupt", "interrupt", "Interrupt a long run", "esc", footer=False),
    Key("ctrl+r", "reload", "reload",
        "Reload the scenario file from disk: breakpoints kept, and the position where the program's shape is "
        "unchanged", "ctrl+r", footer=False),
    # issue #14: what-if edits, watches, sessions
    Key("equals_sign", "edit", "set", "What if: set a parameter, input, target or learn_rate (e.g. w5 * 2); "
        "p right after undoes it", "=", footer=False),
    Key("w", "watches", "watch", "Watch expressions, e.g. h1 * (1 - h1): their values after every op", "w",
        footer=False),
    Key("ctrl+s", "save_session", "save", "Save the session (breakpoints, conditions, watches, edits, place); "
        "--session FILE restores it", "ctrl+s", footer=False),
    Key("y", "show_view('predictions')", "predict",
        "Predictions: every sample's prediction, loss and right/wrong, the accuracy; i there adds a new input "
        "(y again: the network)", "y", footer=False),
    Key("h", "show_view('health')", "health",
        "Health: saturated and dead neurons, mean |∂L/∂w| per layer and its ratio (h again: the network)", "h",
        footer=False),
    Key("x", "export('markdown')", "export", "Export this step: the current sample's worked example (Markdown) "
        "to the working directory", "x", footer=False),
    Key("m", "show_view('matrix')", "matrix", "Matrix view: the current op's layer as s = W·x + b, backward "
        "∂L/∂W = δ·xᵀ (m again: the network)", "m", footer=False),
    Key("l", "show_view('loss')", "loss", "Loss curve of the epochs so far instead of the network (l again: back)",
        "l", footer=False),
    Key("d", "show_view('boundary')", "boundary",
        "Decision boundary: the two inputs' plane coloured by the prediction, with the samples (d again: back)",
        "d", footer=False),
)

PANE_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓  PgUp PgDn  Home End", "move the selection in the program (the execution point stays)"),
    ("enter / double click", "jump to the selected op in this sample"),
    ("click", "select an op (its formula shows in the formula pane)"),
    ("ctrl+p", "command palette: every command, jump to op <name>, jump to sample <name>"),
    ("tab", "move focus between panes (↑ ↓ then scroll the formula and values panes)"),
    ("shift+← shift+→  h l", "scroll the focused formula pane sideways (its border: ↓ 2 more · → more)"),
    ("i (predictions view)", "predict a new input: every input NAME=VALUE, e.g. x1=-7,x2=-3"),
    ("L  S", "loss curve (focused): log scale on / off; each sample's loss now, as dots on the line"),
)


def bindings() -> list[Binding]:
    out = []
    for k in KEYS:
        first, *rest = k.keys.split(",")
        display = {"question_mark": "?", "space": "space", "escape": "esc"}.get(first)
        group = FINISH if k.group == "finish" else None
        out.append(Binding(first, k.action, k.short, show=k.footer, key_display=display, tooltip=k.help,
                           group=group))
        for other in rest:
            out.append(Binding(other, k.action, k.short, show=False))
    return out
