"""The help screen (``?``): every key, what each pane shows."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnstep.health import EPS, EXPLODING, VANISHING

from ..components.dialog import Dialog
from ..keys import KEYS, PANE_KEYS

PANES = (
    ("Program", "the ops of one training step on one sample, as the lines you would write; ▶ is the op just "
                "executed, ● a breakpoint, the right column each executed op's value."),
    ("Formula", "the selected op: its definition, SymPy's derivative or the chain-rule factors, the same with "
                "this sample's numbers and the value; for d_L_d_<parameter> a finite-difference check "
                "(agree, differ, or cannot be measured, with why)."),
    ("Notation", "[a > b] is 1 when a > b and 0 when a < b (the legend under a formula says what a tie gives); "
                 "|x| and max(x, y) as written. In a formula graph ∂f/∂x|direct is the local partial, f's own "
                 "formula differentiated with everything else held fixed (the direct path only), and ∂f/∂x the "
                 "total over every path, which training uses. In the LaTeX view η is the learning rate "
                 "(learn_rate in the program)."),
    ("Network", "values on the nodes and weights on the edges; in the backward phase the gradients, blue for "
                "positive, orange for negative, brighter for larger; yellow marks what the op writes and reads."),
    ("Values", "every named quantity; parameters show old → new once updated; the name the op wrote is "
               "highlighted."),
    ("Status", "scenario, epoch, sample, phase, op, this sample's loss and a sparkline of the epoch losses."),
    ("Predictions", "y, in the network's place: every sample's inputs, target, the network's output under the "
                    "parameters at this point, its loss and, for classification, the class and ✓ right / ✗ wrong; "
                    "the accuracy and the mean loss (the epoch loss at these parameters). The rule is said: a "
                    "softmax output predicts its largest output; one sigmoid output with 0/1 targets predicts 1 "
                    "from 0.5 up; anything else is regression (loss only). i adds a new input (x1=-7,x2=-3)."),
    ("Health", f"h, in the network's place; marks in the values pane and on the drawing. saturated: a sigmoid/tanh "
               f"output within {EPS:g} of its bound on every sample, so its derivative is ~0 and it barely learns "
               "(the drawing writes sat! or ! in place of the activation, the heat map !); dead: a ReLU whose "
               f"output is 0 on every sample, it never learns; per layer the mean |∂L/∂w| and its ratio to the "
               f"next layer's: vanishing below {VANISHING:g}, exploding above {EXPLODING:g} or not finite."),
)


def help_text() -> Table:
    keys = Table.grid(padding=(0, 2))
    keys.add_column(style="bold", no_wrap=True)
    keys.add_column()
    for k in KEYS:
        keys.add_row(k.shown or k.keys, k.help)
    more = Table.grid(padding=(0, 2))
    more.add_column(style="bold", max_width=24)
    more.add_column()
    for shown, text in PANE_KEYS:
        more.add_row(shown, text)
    panes = Table.grid(padding=(0, 2))
    panes.add_column(style="bold", no_wrap=True)
    panes.add_column()
    for name, text in PANES:
        panes.add_row(name, text)
    out = Table.grid()
    out.add_row(Text("Keys", style="bold underline"))
    out.add_row(keys)
    out.add_row(Text(""))
    out.add_row(Text("Moving around", style="bold underline"))
    out.add_row(more)
    out.add_row(Text(""))
    out.add_row(Text("Panes", style="bold underline"))
    out.add_row(panes)
    out.add_row(Text(""))
    out.add_row(Text("esc, q or ? closes this help", style="dim"))
    return out


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { max-width: 110; height: 90%; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "close", show=True),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = "nnstep help"
            yield Static(help_text(), id="help-body")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
