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
    Key("plus,equals_sign", "speed(1)", "faster", "Play faster", "+", footer=False),
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
