"""Worked examples: one training step written out as a handout (``nnstep export``).

In the style of the classic step-by-step backpropagation walkthroughs: the parameters
at the start of the step, then every op of the step grouped by phase, each with its
formula (the derivation :mod:`nnstep.symbolic` gives the formula pane and the traces),
the same with this sample's numbers, and its value; then the loss before and after.

Two stages: :func:`collect` steps a :class:`~nnstep.debugger.Debugger` through the
sample and keeps the numbers as plain data (cheap; it puts the debugger back where it
was), :func:`render` writes them as Markdown (``$…$`` maths), a standalone LaTeX
``article`` or a self-contained HTML page with MathML (no scripts, no network).  Text
from the scenario file is escaped for each format; nothing from it is ever markup.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .debugger import Debugger
from .errors import NNStepError
from .program import PHASES, Op, Program, epoch_loss
from .scenario import Scenario, load_scenario
from .text import markdown_cell, visible

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["FORMATS", "MAX_EXPORT_OPS", "ExportCancelled", "ExportError", "OpRecord", "StepRecord", "collect",
           "export", "file_name", "render"]

FORMATS = ("markdown", "latex", "html")
SUFFIX = {"markdown": ".md", "latex": ".tex", "html": ".html"}
#: Ops of one training step a handout is written for at most (Iris has 1,631).
MAX_EXPORT_OPS = 5_000
#: Significant digits of the numbers substituted into a formula.
DIGITS = 6

HEADINGS = {"forward": "Forward pass", "loss": "Loss", "backward": "Backward pass (chain rule)",
            "update": "Update (gradient descent)"}


class ExportError(NNStepError):
    """A handout that cannot be written: past the last epoch or sample, or too large."""


class ExportCancelled(Exception):
    """:func:`render` was asked to stop (its ``cancel()`` turned true)."""


@dataclass(frozen=True)
class OpRecord:
    """One executed op: the values it read just before it ran, and the value it wrote."""

    op: Op
    reads: dict[str, float | None]
    value: float


@dataclass(frozen=True)
class StepRecord:
    """Everything a handout shows, as plain numbers (epoch and sample count from 1)."""

    scenario: Scenario
    program: Program
    epoch: int
    sample: int
    sample_name: str
    data: dict[str, float]  # the sample's inputs and targets
    learning_rate: float | None
    before: dict[str, float]  # parameters at the start of the step
    after: dict[str, float]  # ... and after its updates
    ops: tuple[OpRecord, ...]
    sample_loss: tuple[float, float]  # this sample's loss with the parameters before / after
    mean_loss: tuple[float, float]  # the mean over all samples, before / after
    edited: bool = False
    seed: int | None = None
    phases: dict[str, int] = field(default_factory=dict)


def collect(dbg: Debugger, epoch: int | None = None, sample: int | None = None) -> StepRecord:
    """Step ``dbg`` through sample ``sample`` of epoch ``epoch`` (from 1; default: the
    current ones) and keep the numbers; ``dbg`` is put back where it was."""
    sc = dbg.scenario
    K, M = dbg.op_count, dbg.sample_count
    if K > MAX_EXPORT_OPS:
        raise ExportError(f"a training step of this scenario has {K:,} ops; a handout is written for at most "
                          f"{MAX_EXPORT_OPS:,} (nnstep.export.MAX_EXPORT_OPS)", file=sc.source, key="export")
    e = dbg.epoch + 1 if epoch is None else epoch
    s = dbg.sample_index + 1 if sample is None else sample
    if not 1 <= e <= dbg.epochs:
        raise ExportError(f"must be from 1 to {dbg.epochs:,} (the scenario's epochs), not {e}", file=sc.source,
                          key="--epoch")
    if not 1 <= s <= M:
        raise ExportError(f"must be from 1 to {M:,} (the scenario's samples), not {s}", file=sc.source,
                          key="--sample")
    program = dbg.program
    home = dbg.t
    g = (e - 1) * M + (s - 1)
    try:
        dbg.goto(g * K)
        before = dbg.parameters()
        records = []
        for op in dbg.ops:
            # read after the step (entering the sample loads its inputs), but the value the
            # op overwrites (an update's old parameter) from before it
            old = dbg.value(op.name) if op.name in op.reads else None
            dbg.step()
            reads = {n: old if n == op.name else dbg.value(n) for n in op.reads}
            records.append(OpRecord(op, reads, _value(dbg, op.name)))
        after = dbg.parameters()
        data = {n: _value(dbg, n) for n in (*program.inputs, *program.targets)}
        rate = dbg.value("learn_rate") if "learn_rate" in program.slot else None
    finally:
        dbg.goto(home)
    index = s - 1
    loss_op = program.by_name.get(program.loss)
    loss_before = records[loss_op.index].value if loss_op is not None else program.sample_loss(
        list(before.values()), index)
    phases = {p: sum(1 for op in dbg.ops if op.phase == p) for p in PHASES}
    return StepRecord(
        sc, program, e, s, dbg.scenario.samples[index].name, data, rate, before, after, tuple(records),
        (loss_before, program.sample_loss(list(after.values()), index)),
        (epoch_loss(program, list(before.values())), epoch_loss(program, list(after.values()))),
        edited=bool(getattr(dbg, "edits", None)), seed=getattr(dbg, "seed", None), phases=phases)


def _value(dbg: Debugger, name: str) -> float:
    x = dbg.value(name)
    return math.nan if x is None else x


def export(scenario: Scenario | str | None = None, *, epoch: int = 1, sample: int = 1, seed: int | None = None,
           fmt: str = "markdown") -> str:
    """The handout for sample ``sample`` of epoch ``epoch`` (from 1) as text."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return render(collect(Debugger(sc, seed=seed), epoch, sample), fmt)


def file_name(step: StepRecord, fmt: str) -> str:
    """``nnstep-xor-epoch1-sample2.md``: safe on every file system (the scenario's name
    reduced to letters, digits, ``_ . -``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", step.scenario.name).strip("-.") or "scenario"
    return f"nnstep-{name[:60]}-epoch{step.epoch}-sample{step.sample}{SUFFIX[fmt]}"


# --------------------------------------------------------------------------- numbers


def number_latex(x: float, digits: int | None = None) -> str:
    r"""``x`` as maths: exact (``repr``: the shortest decimal that reads back as the same
    float) or to ``digits`` significant digits; ``1.5 \times 10^{-20}``, ``\infty``, ``\mathrm{nan}``."""
    if math.isnan(x):
        return r"\mathrm{nan}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    text = repr(x) if digits is None else f"{x:.{digits}g}"
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return mantissa
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


# --------------------------------------------------------------------------- rendering


#: A numbers line's right-hand side that is one number (possibly in parentheses).
_LONE_NUMBER = re.compile(r"(\\left\()?-?(\d+(\.\d+)?( \\times 10\^\{-?\d+\})?|\\infty|\\mathrm\{nan\})(\\right\))?")


@dataclass(frozen=True)
class _Op:
    number: int
    phase: str
    code: str
    formula: str  # LaTeX
    numbers: str  # LaTeX: lhs = numbers = value
    legend: str


def _ops(step: StepRecord, cancel: Callable[[], bool] | None = None) -> list[_Op]:
    from .symbolic import shared_symbolic
    from .symbolic.worked import lhs_latex, numbers_latex

    sy = shared_symbolic(step.program)
    out = []
    for r in step.ops:
        if cancel is not None and cancel():
            raise ExportCancelled
        f = sy.formula(r.op)
        body = numbers_latex(sy, r.op, r.reads, lambda x: number_latex(x, DIGITS))
        lhs = lhs_latex(sy, r.op)
        sign = r"\leftarrow" if r.op.kind == "update" else "="
        value = number_latex(r.value)
        if _LONE_NUMBER.fullmatch(body):  # y_pred = o1, d_f_d_q = z: the value, exact, once
            line = f"{lhs} {sign} {value}"
        else:
            line = f"{lhs} {sign} {body} = {value}"
        out.append(_Op(r.op.index + 1, r.op.phase, r.op.code, f.latex, line, f.legend))
    return out


def _intro(step: StepRecord) -> list[str]:
    """The handout's opening sentences, in plain text (each writer escapes them)."""
    K = len(step.ops)
    counts = ", ".join(f"{n} {p}" for p, n in step.phases.items() if n)
    lines = [
        f"One training step of the scenario \"{step.scenario.name}\": sample {step.sample} "
        f"({step.sample_name}) of epoch {step.epoch}, from the parameters at the start of the step to their "
        f"updates. Epochs, samples and ops count from 1.",
        f"The step has {K:,} ops ({counts}).",
        f"Numbers: each op's value (after the last = sign) is exact, the shortest decimal that reads back as the "
        f"same float64; the numbers put into a formula are rounded to {DIGITS} significant digits.",
    ]
    if step.edited:
        lines.append("This run is edited (what-if): values were changed by hand in the debugger, so they are not "
                     "what training the scenario file gives.")
    return lines


def _rows(step: StepRecord) -> list[tuple[str, str, str]]:
    """(what, before, after) rows of the loss table, as plain text and numbers."""
    n = len(step.scenario.samples)
    return [
        (f"this sample's loss {step.program.loss}", repr(step.sample_loss[0]), repr(step.sample_loss[1])),
        (f"mean loss over all {n} samples", repr(step.mean_loss[0]), repr(step.mean_loss[1])),
    ]


def render(step: StepRecord, fmt: str = "markdown", *, cancel: Callable[[], bool] | None = None) -> str:
    """The handout as Markdown, LaTeX or HTML; :class:`ExportCancelled` when ``cancel()``
    (asked before each op's formulas) turns true."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}", key="--format")
    return WRITERS[fmt](step, _ops(step, cancel))


def _by_phase(ops: list[_Op]) -> list[tuple[str, list[_Op]]]:
    """The ops grouped by phase, in the order of :data:`PHASES` (phases with no op left out)."""
    groups = [(phase, [o for o in ops if o.phase == phase]) for phase in PHASES]
    return [(phase, group) for phase, group in groups if group]


def _latex_name(name: str) -> str:
    from .symbolic import printing

    return printing.latex_name(name)


def _data_lines(step: StepRecord) -> list[tuple[str, str]]:
    """(label, LaTeX) of what the step starts from: the learning rate, the inputs, the targets."""
    p = step.program
    lines = []
    if step.learning_rate is not None:
        lines.append(("Learning rate", f"{_latex_name('learn_rate')} = {number_latex(step.learning_rate)}"))
    if p.inputs:
        lines.append(("Inputs", _data_latex(step, p.inputs, step.data)))
    if p.targets:
        lines.append(("Targets", _data_latex(step, p.targets, step.data)))
    return lines


def _data_latex(step: StepRecord, names: Sequence[str], values: dict[str, float], digits: int | None = None) -> str:
    return ", ".join(f"{_latex_name(n)} = {number_latex(values[n], digits)}" for n in names)


# -- Markdown


def md_text(text: object) -> str:
    """File text in a Markdown paragraph: :func:`~nnstep.text.markdown_cell`, plus ``$``
    (maths on GitHub and most viewers) and line breaks as spaces."""
    return markdown_cell(str(text).replace("\n", " ")).replace("$", r"\$")


def _markdown(step: StepRecord, ops: list[_Op]) -> str:
    sc, p = step.scenario, step.program
    out = [f"# Worked example: {md_text(sc.name)}, epoch {step.epoch}, sample {step.sample} "
           f"({md_text(step.sample_name)})", ""]
    if sc.description:
        out += [f"*Scenario:* {md_text(sc.description)}", ""]
    for line in _intro(step):
        out += [md_text(line), ""]
    out += ["## Before the step", ""]
    for label, maths in _data_lines(step):
        out += [f"{label}: ${maths}$", ""]
    out += ["| parameter | at the start of the step | after the step |", "|---|---:|---:|"]
    for n in p.parameters:
        out.append(f"| ${_latex_name(n)}$ | {repr(step.before[n])} | {repr(step.after[n])} |")
    out.append("")
    for phase, group in _by_phase(ops):
        out += [f"## {HEADINGS[phase]}", ""]
        for o in group:
            out += [f"**{o.number}.** {md_text(o.code)}", "", f"$${o.formula}$$", "", f"$${o.numbers}$$", ""]
            if o.legend:
                out += [f"*{md_text(o.legend)}*", ""]
    out += ["## The loss before and after the step", "", "| | before the step | after the step |", "|---|---:|---:|"]
    for what, b, a in _rows(step):
        out.append(f"| {md_text(what)} | {b} | {a} |")
    out.append("")
    return "\n".join(out)


# -- LaTeX

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "^": r"\^{}",
    "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", '"': "''",
    # the maths and typography scenario descriptions use
    "\u2212": "$-$", "\u00b7": r"$\cdot$", "\u00d7": r"$\times$", "\u00f7": r"$\div$", "\u00b1": r"$\pm$",
    "\u2202": r"$\partial$", "\u2248": r"$\approx$", "\u2260": r"$\neq$", "\u2264": r"$\leq$",
    "\u2265": r"$\geq$", "\u2192": r"$\to$", "\u2190": r"$\leftarrow$", "\u221a": r"$\surd$",
    "\u2211": r"$\sum$", "\u221e": r"$\infty$", "\u00b2": "$^2$", "\u00b3": "$^3$", "\u0177": r"$\hat{y}$",
    "\u2026": r"\ldots{}", "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``",
    "\u201d": "''",
    **{chr(0x3B1 + i): rf"$\{g}$" for i, g in enumerate(
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi _ pi rho _ sigma tau upsilon "
        "phi chi psi omega".split()) if g != "_"},
}


def tex_text(text: object) -> str:
    """File text for a LaTeX document: control and invisible characters made visible, the
    specials escaped, common maths symbols and Greek letters as LaTeX (``−`` as ``$-$``),
    and other characters outside ASCII and Latin-1's letters written as ``[U+2603]``
    (pdflatex stops at a character it has no glyph for)."""
    out = []
    for ch in visible(str(text).replace("\n", " ")):
        if ch == '"':  # a straight quote opens after a space or a bracket (or at the start), else closes
            out.append("``" if not out or out[-1][-1:] in " ([{" else "''")
        elif ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ord(ch) < 0x80 or 0xC0 <= ord(ch) <= 0xFF and ch not in "\xd7\xf7":
            out.append(ch)
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def _latex(step: StepRecord, ops: list[_Op]) -> str:
    sc, p = step.scenario, step.program
    title = (f"Worked example: {tex_text(sc.name)}, epoch {step.epoch}, sample {step.sample} "
             f"({tex_text(step.sample_name)})")
    out = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\begin{document}", "",
           rf"\section*{{{title}}}", ""]
    if sc.description:
        out += [rf"\emph{{Scenario:}} {tex_text(sc.description)}", ""]
    for line in _intro(step):
        out += [tex_text(line), ""]
    out += [r"\subsection*{Before the step}", ""]
    for label, maths in _data_lines(step):
        out += [f"{label}: ${maths}$", ""]
    out += [r"\begin{tabular}{lrr}", r"parameter & at the start of the step & after the step \\ \hline"]
    for n in p.parameters:
        out.append(rf"${_latex_name(n)}$ & ${number_latex(step.before[n])}$ & ${number_latex(step.after[n])}$ \\")
    out += [r"\end{tabular}", ""]
    for phase, group in _by_phase(ops):
        out += [rf"\subsection*{{{HEADINGS[phase]}}}", ""]
        for o in group:
            out += [rf"\paragraph{{{o.number}.}} \texttt{{{tex_text(o.code)}}}", r"\[", o.formula, r"\]",
                    r"\[", o.numbers, r"\]"]
            if o.legend:
                out.append(rf"\emph{{{tex_text(o.legend)}}}")
            out.append("")
    out += [r"\subsection*{The loss before and after the step}", "", r"\begin{tabular}{lrr}",
            r" & before the step & after the step \\ \hline"]
    for what, b, a in _rows(step):
        out.append(rf"{tex_text(what)} & ${number_latex(float(b))}$ & ${number_latex(float(a))}$ \\")
    out += [r"\end{tabular}", "", r"\end{document}", ""]
    return "\n".join(out)


# -- HTML

_CSS = """
body { font-family: Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; }
.op { margin: 1rem 0; } .op math { margin: 0.3rem 0; overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-family: Menlo, Consolas, monospace; }
"""


def _mathml(tex: str, display: str = "inline") -> str:
    """Presentation MathML for HTML5 (which needs no namespace on ``<math>``)."""
    from latex2mathml.converter import convert

    return convert(tex, display=display).replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)


def h(text: object) -> str:
    """File text for HTML: line breaks as spaces, control and invisible characters made
    visible, then escaped."""
    return html.escape(visible(str(text).replace("\n", " ")), quote=True)


def _html(step: StepRecord, ops: list[_Op]) -> str:
    sc, p = step.scenario, step.program
    title = f"Worked example: {h(sc.name)}, epoch {step.epoch}, sample {step.sample} ({h(step.sample_name)})"
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">', f"<title>{title}</title>",
           f"<style>{_CSS}</style>", "</head>", "<body>", f"<h1>{title}</h1>"]
    if sc.description:
        out.append(f"<p><em>Scenario:</em> {h(sc.description)}</p>")
    out += [f"<p>{h(line)}</p>" for line in _intro(step)]
    out.append("<h2>Before the step</h2>")
    out += [f"<p>{label}: {_mathml(maths)}</p>" for label, maths in _data_lines(step)]
    out.append("<table><tr><th>parameter</th><th>at the start of the step</th><th>after the step</th></tr>")
    for n in p.parameters:
        out.append(f"<tr><td>{_mathml(_latex_name(n))}</td><td class=\"n\">{repr(step.before[n])}</td>"
                   f"<td class=\"n\">{repr(step.after[n])}</td></tr>")
    out.append("</table>")
    for phase, group in _by_phase(ops):
        out.append(f"<h2>{HEADINGS[phase]}</h2>")
        for o in group:
            out += ['<div class="op">', f"<p><strong>{o.number}.</strong> <code>{h(o.code)}</code></p>",
                    _mathml(o.formula, "block"), _mathml(o.numbers, "block")]
            if o.legend:
                out.append(f"<p><em>{h(o.legend)}</em></p>")
            out.append("</div>")
    out += ["<h2>The loss before and after the step</h2>",
            "<table><tr><th></th><th>before the step</th><th>after the step</th></tr>"]
    for what, b, a in _rows(step):
        out.append(f'<tr><td>{h(what)}</td><td class="n">{b}</td><td class="n">{a}</td></tr>')
    out += ["</table>", "</body>", "</html>", ""]
    return "\n".join(out)


#: Each format's writer.
WRITERS: dict[str, Callable[[StepRecord, list[_Op]], str]] = {"markdown": _markdown, "latex": _latex, "html": _html}
