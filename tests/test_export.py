"""``nnstep export``: one training step as a worked example (issue #16 item 5).

The numbers are the trace's (parsed back), every formula typesets (latex2mathml), the
LaTeX is a well-formed standalone document (and compiles where a TeX installation
exists), the HTML needs no network, file text never becomes markup, and the size is
bounded."""

from __future__ import annotations

import html.parser
import io
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import nnstep
from nnstep import cli, export
from nnstep.debugger import Debugger
from nnstep.trace import trace_rows, train_report

converter = pytest.importorskip("latex2mathml.converter")

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
HOSTILE = ROOT / "tests" / "corpus" / "hostile"
#: C0 but newline, DEL, C1, and the bidirectional embeddings, overrides and isolates.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: An op of the Markdown handout: its number and line, its formula, the same with numbers.
MD_OP = re.compile(r"^\*\*(\d+)\.\*\* (.*)\n\n\$\$(.*)\$\$\n\n\$\$(.*)\$\$$", re.M)
NUMBER = r"-?(?:\d+(?:\.\d+)?|\\infty|\\mathrm\{nan\})(?: \\times 10\^\{-?\d+\})?"


def read_number(tex: str) -> float:
    """A number as :func:`nnstep.export.number_latex` writes it, read back."""
    tex = tex.strip()
    if tex == r"\mathrm{nan}":
        return math.nan
    if tex.endswith(r"\infty"):
        return -math.inf if tex.startswith("-") else math.inf
    m = re.fullmatch(r"(-?[\d.]+)(?: \\times 10\^\{(-?\d+)\})?", tex)
    assert m, tex
    return float(m.group(1) + (f"e{m.group(2)}" if m.group(2) else ""))


def value_of(numbers: str) -> float:
    """The value at the end of an op's numbers line (after its last = or ←)."""
    m = re.search(rf"(?:=|\\leftarrow) ({NUMBER})$", numbers)
    assert m, numbers
    return read_number(m.group(1))


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def step_rows(scenario, epoch: int, sample: int):
    """The trace's rows of one sample's step (epoch, sample from 1)."""
    sc = nnstep.load_scenario(scenario)
    dbg = Debugger(sc)
    g = (epoch - 1) * dbg.sample_count + sample
    rows = list(trace_rows(sc, samples=g))
    return rows[-dbg.op_count:]


def markdown_formulas(md: str) -> list[str]:
    """Every formula of a Markdown handout: $$…$$ lines and $…$ spans."""
    out = re.findall(r"^\$\$(.+)\$\$$", md, re.M)
    rest = re.sub(r"^\$\$.+\$\$$", "", md, flags=re.M)
    out += re.findall(r"(?<![\\$])\$([^$]+)(?<!\\)\$", rest)
    return out


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("name", "epoch", "sample"),
                         [("note-network", 1, 1), ("note-network", 2, 3), ("xor", 3, 2), ("circuit", 1, 1),
                          ("relu-softmax", 1, 1), ("sigmoid-neuron", 2, 1), ("diverging", 171, 1), ("diverging", 172, 1)])
def test_the_values_are_the_traces(name, epoch, sample):
    md = export.export(name, epoch=epoch, sample=sample)
    ops = MD_OP.findall(md)
    rows = step_rows(name, epoch, sample)
    assert len(ops) == len(rows)
    for (number, code, formula, numbers), row in zip(ops, rows):
        assert int(number) == row.step
        assert re.sub(r"\\(.)", r"\1", code) == row.code  # Markdown escapes undone
        assert formula == row.latex
        got = value_of(numbers)
        assert same(got, row.value), (row.name, numbers, row.value)
    assert f"The step has {len(rows):,} ops" in md
    assert f"epoch {epoch}, sample {sample} ({rows[0].sample_name})" in md


def test_the_diverging_step_has_non_finite_values():
    md = export.export("diverging", epoch=172, sample=1)
    values = [value_of(n) for *_, n in MD_OP.findall(md)]
    assert any(not math.isfinite(v) for v in values)  # the step where the loss overflows


@pytest.mark.parametrize(("epoch", "sample"), [(1, 1), (1, 2), (2, 3)])
def test_the_numbers_put_into_formulas_are_the_inputs_values_to_six_digits(epoch, sample):
    """Each number inside a numbers line is one of the values the step had computed by
    then (or the sample's, or a constant of the formula itself), to 6 significant digits."""
    name = "note-network"
    sc = nnstep.load_scenario(name)
    dbg = Debugger(sc)
    dbg.goto(((epoch - 1) * dbg.sample_count + sample - 1) * dbg.op_count)
    known = {f"{v:.6g}" for v in dbg.parameters().values()}
    data = sc.samples[sample - 1]
    known |= {f"{v:.6g}" for v in (*data.x, *data.y, sc.learning_rate)}
    md = export.export(name, epoch=epoch, sample=sample)
    rows = step_rows(name, epoch, sample)
    for (_, _, formula, numbers), row in zip(MD_OP.findall(md), rows):
        middle = numbers.split(r"\leftarrow ", 1)[1] if r"\leftarrow" in numbers else numbers.split(" = ", 1)[1]
        middle = middle.rsplit(" = ", 1)[0] if " = " in middle else ""  # "lhs = value": no numbers put in
        middle = re.sub(r"(-?\d+(?:\.\d+)?) \\times 10\^\{(-?\d+)\}",  # as Python's .6g writes it
                        lambda m: f"{m[1]}e{'-' if int(m[2]) < 0 else '+'}{abs(int(m[2])):02d}", middle)
        while True:  # drop subscripts (w_{1}, \mathrm{sum}_{h_{1}})
            stripped = re.sub(r"_\{[^{}]*\}", "", middle)
            if stripped == middle:
                break
            middle = stripped
        constants = set(re.findall(r"\d+", re.sub(r"_\{[^{}]*\}", "", formula)))
        for token in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", middle):
            assert token in known or token.lstrip("-") in constants, (row.name, token, numbers)
        known.add(f"{row.value:.6g}")
    if (epoch, sample) == (1, 1):
        assert r"\sigma\left(-2.97817\right)" in md  # one pair of parentheses around a negative argument


@pytest.mark.parametrize("name", BUNDLED)
def test_every_name_in_a_numbers_line_gets_its_number(name):
    """The values collect() keeps for an op cover every name its shown formula has."""
    from nnstep.symbolic import shared_symbolic

    step = export.collect(Debugger(nnstep.load_scenario(name)))
    sy = shared_symbolic(step.program)
    for r in step.ops:
        f = sy.formula(r.op)
        if r.op.kind == "total":
            names = {n for term in r.op.terms for n in term}
        else:
            names = {s.name for s in (f.shown if r.op.kind == "partial" else f.shown_definition).free_symbols}
        assert names <= r.reads.keys() and all(r.reads[n] is not None for n in names), r.op.name


def test_a_lone_number_is_written_once_exactly():
    md = export.export("circuit")
    assert r"$$\frac{\partial f}{\partial q} = -4.0$$" in md  # d_f_d_q = z
    md = export.export("note-network")
    ops = {m[1].replace("\\", ""): m[3] for m in MD_OP.findall(md)}
    assert re.fullmatch(r"\\hat\{y\} = \d\.\d{10,}", ops["y_pred = o1"])


def test_the_parameters_and_losses_before_and_after():
    """The parameter table's columns are the trace's starting values and the update
    ops' values; the loss table: this sample's L, and after the last sample of epoch 1
    the mean loss is what nnstep train reports for epoch 1."""
    md = export.export("note-network", epoch=1, sample=4)
    rows = step_rows("note-network", 1, 4)
    updates = {r.name: r.value for r in rows if r.phase == "update"}
    table = {m[0]: (float(m[1]), float(m[2])) for m in re.findall(r"^\| \$(.+)\$ \| (\S+) \| (\S+) \|$", md, re.M)}
    dbg = Debugger(nnstep.load_scenario("note-network"))
    dbg.goto(3 * dbg.op_count)  # the start of sample 4
    from nnstep.symbolic import printing

    assert {printing.latex_name(k): v for k, v in dbg.parameters().items()} == {k: b for k, (b, _) in table.items()}
    assert {printing.latex_name(k): v for k, v in updates.items()} == {k: a for k, (_, a) in table.items()}
    out = io.StringIO()
    train_report("note-network", epochs=1, fmt="json", out=out)
    epoch1 = json.loads(out.getvalue())["losses"][0]
    loss = {m[0]: (float(m[1]), float(m[2]))
            for m in re.findall(r"^\| (this sample.s loss L|mean loss over all 4 samples) \| (\S+) \| (\S+) \|$",
                                md, re.M)}
    assert loss["this sample's loss L"][0] == next(r.value for r in rows if r.name == "L")
    assert loss["mean loss over all 4 samples"][1] == epoch1


# --------------------------------------------------------------------------- maths typesets


@pytest.mark.parametrize("name", BUNDLED)
def test_every_formula_of_the_markdown_export_typesets(name):
    md = export.export(name)
    formulas = markdown_formulas(md)
    K = Debugger(nnstep.load_scenario(name)).op_count
    assert len(formulas) >= 2 * K
    for tex in formulas:
        assert "<merror" not in converter.convert(tex), tex


def test_iris_is_exported_and_says_how_many_ops():
    md = export.export("iris")
    assert "The step has 1,631 ops (" in md
    assert len(MD_OP.findall(md)) == 1631


def test_above_the_limit_it_refuses_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(export, "MAX_EXPORT_OPS", 60)
    assert cli.main(["export", "xor"]) == 2  # 72 ops
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["xor: export: a training step of this scenario has 72 ops; a handout is written for at most 60 "
                   "(nnstep.export.MAX_EXPORT_OPS)"]
    assert cli.main(["export", "note-network"]) == 0  # 40 ops


def test_a_scenario_beyond_the_real_limit_is_refused(tmp_path):
    """A 4-60-60-3 network: about 12,000 ops per step."""
    path = tmp_path / "wide.toml"
    path.write_text('[network]\ninputs = ["a", "b", "c", "d"]\nlayers = [{ neurons = 60, activation = "tanh" }, '
                    '{ neurons = 60, activation = "tanh" }, { neurons = 3, activation = "softmax" }]\n'
                    'loss = "cross_entropy"\n[[samples]]\nx = [1, 2, 3, 4]\ny = [1, 0, 0]\n', encoding="utf-8")
    dbg = Debugger(nnstep.load_scenario(str(path)))
    assert dbg.op_count > export.MAX_EXPORT_OPS
    with pytest.raises(export.ExportError, match=r"has [\d,]+ ops; a handout is written for at most 5,000"):
        export.collect(dbg)


# --------------------------------------------------------------------------- formats


def latex_problems(doc: str) -> list[str]:
    """Structural problems of a LaTeX document: unbalanced braces, environments, \\left/\\right,
    display maths or inline $."""
    problems = []
    plain = re.sub(r"\\[\\{}$&#%_]", "", doc)  # escaped specials (and \\ line breaks)
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            problems.append("} before its {")
            depth = 0
    if depth:
        problems.append(f"{depth} unclosed braces")
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([A-Za-z*]+)\}", plain):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            problems.append(f"\\end{{{env}}} does not close what is open")
    if stack:
        problems.append(f"unclosed environments {stack}")
    if len(re.findall(r"\\left(?![A-Za-z])", plain)) != len(re.findall(r"\\right(?![A-Za-z])", plain)):
        problems.append("\\left and \\right do not pair")
    displays = re.findall(r"\\[\[\]]", plain)
    if displays != [r"\[", r"\]"] * (len(displays) // 2):
        problems.append("\\[ and \\] do not alternate")
    if plain.count("$") % 2:
        problems.append("an odd number of $")
    return problems


@pytest.mark.parametrize("name", ["note-network", "circuit", "relu-softmax", "two-moons"])
def test_latex_is_a_well_formed_standalone_article(name):
    doc = export.export(name, fmt="latex")
    assert doc.startswith("\\documentclass{article}\n")
    assert re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", doc) == ["amsmath"]
    assert doc.count(r"\begin{document}") == 1 and doc.rstrip().endswith(r"\end{document}")
    assert latex_problems(doc) == []
    K = Debugger(nnstep.load_scenario(name)).op_count
    assert doc.count("\\[\n") == 2 * K
    assert not re.search(r"[^\x00-\x7f\xc0-\xff]", doc), "only ASCII and Latin-1 letters: pdflatex has their glyphs"


def test_the_structure_check_finds_problems():
    assert latex_problems(r"\begin{document}{\[x\]\end{document}") == ["1 unclosed braces"]
    assert latex_problems(r"\begin{a}\end{b}$") == [r"\end{b} does not close what is open", "an odd number of $"]
    assert latex_problems(r"\begin{a}") == ["unclosed environments ['a']"]
    assert latex_problems(r"\left( x \[ \leftarrow") == ["\\left and \\right do not pair", "\\[ and \\] do not alternate"]


def _pdflatex(doc: str, tmp_path: Path) -> None:
    (tmp_path / "handout.tex").write_text(doc, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           "handout.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "handout.pdf").stat().st_size > 0


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX installation (pdflatex) here")
@pytest.mark.parametrize("name", ["note-network", "circuit"])
def test_latex_compiles(name, tmp_path):
    _pdflatex(export.export(name, fmt="latex"), tmp_path)


class _Tags(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(tag)


@pytest.mark.parametrize("name", ["note-network", "circuit", "relu-softmax"])
def test_html_is_self_contained_and_balanced(name):
    page = export.export(name, fmt="html")
    assert page.startswith("<!DOCTYPE html>\n")
    assert "http" not in page.lower()  # no external URL (the doctype has none either)
    assert "<script" not in page and " src=" not in page and "href" not in page and "@import" not in page
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.problems == [] and tags.stack == []
    K = Debugger(nnstep.load_scenario(name)).op_count
    assert page.count('<math display="block">') == 2 * K
    assert "merror" not in page


def test_the_cli_writes_a_file_and_reports_errors_in_one_line(tmp_path, capsys):
    out = tmp_path / "alice.tex"
    assert cli.main(["export", "note-network", "--format", "latex", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == export.export("note-network", fmt="latex")
    assert capsys.readouterr().out == ""
    assert cli.main(["export", "xor", "--epoch", "501"]) == 2
    assert capsys.readouterr().err == "xor: --epoch: must be from 1 to 500 (the scenario's epochs), not 501\n"
    assert cli.main(["export", "xor", "--sample", "0"]) == 2
    assert "--sample: must be at least 1, not 0" in capsys.readouterr().err
    assert cli.main(["export", "xor", "-o", str(tmp_path / "no" / "such" / "dir.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the handout" in err
    assert cli.main(["export", "note-network", "--format", "pdf"]) == 2


def test_seed_changes_the_drawn_parameters():
    a, b = export.export("xor"), export.export("xor", seed=5)
    assert a != b
    assert MD_OP.findall(b)[0][3] != MD_OP.findall(a)[0][3]


# --------------------------------------------------------------------------- the debugger hook


def test_collect_puts_the_debugger_back_and_defaults_to_its_position():
    dbg = Debugger(nnstep.load_scenario("note-network"))
    dbg.goto_position(1, 2, 12)  # epoch 2, sample 3 (Charlie), op 13
    state = dbg.state()
    step = export.collect(dbg)
    assert (step.epoch, step.sample, step.sample_name) == (2, 3, "Charlie")
    assert dbg.state() == state
    assert export.render(step) == export.export("note-network", epoch=2, sample=3)
    assert export.file_name(step, "markdown") == "nnstep-The-note-s-2-2-1-network-epoch2-sample3.md"


def test_an_edited_run_says_so():
    dbg = Debugger(nnstep.load_scenario("note-network"))
    assert "edited" not in export.render(export.collect(dbg))
    dbg.edits = {"w1": 0.5}  # what the what-if helper's Debugger keeps
    for fmt in export.FORMATS:
        assert "This run is edited (what-if)" in export.render(export.collect(dbg), fmt)


# --------------------------------------------------------------------------- file text


HOSTILE_TOML = r'''
name = "<script>alert(1)</script> $\\input{/etc/passwd}$ **b** [x](javascript:alert(1))"
description = "</style><img src=x onerror=alert(1)> \\end{document} # % & ~ ^ _ { } | ` $$x$$ ☃ ∀"

[network]
inputs = ["x1", "x2"]
layers = [{ neurons = 1, activation = "sigmoid" }]
loss = "mse"

[[samples]]
name = "<b>Alice</b> \\verb|x|"
x = [1, 2]
y = [1]
'''


def _hostile_files(tmp_path: Path) -> list[Path]:
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE_TOML, encoding="utf-8")
    files = [path]
    for p in sorted(HOSTILE.glob("*.toml")):
        try:
            Debugger(nnstep.load_scenario(str(p)))
        except nnstep.NNStepError:
            continue
        files.append(p)
    return files


def test_hostile_names_are_text_in_every_format(tmp_path):
    files = _hostile_files(tmp_path)
    assert len(files) >= 2
    for path in files:
        for fmt in export.FORMATS:
            out = export.export(str(path), fmt=fmt)
            assert not RAW_CONTROL.search(out), (path.name, fmt)
            if fmt == "markdown":  # every < and > of file text escaped (maths lines are nnstep's own)
                text = "\n".join(line for line in out.splitlines() if not line.startswith("$$"))
                assert not re.search(r"(?<!\\)[<>]", text), path.name
            else:
                assert "<script" not in out and "<img" not in out and "<b>" not in out and "</style><" not in out
        md = export.export(str(path))
        assert not re.search(r"(?<!\\)[\[\]]", md.replace("\\left[", "").replace("\\right]", ""))  # no link
        for line in md.splitlines()[:4]:  # the lines that carry the name and the description
            assert not re.search(r"(?<!\\)\$", line.replace("$$", "")) or line.startswith("$"), line
        doc = export.export(str(path), fmt="latex")
        assert latex_problems(doc) == [], path.name
        assert doc.count(r"\end{document}") == 1 and r"\input" not in doc and r"\verb" not in doc
        page = export.export(str(path), fmt="html")
        tags = _Tags()
        tags.feed(page)
        assert set(tags.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "em", "table",
                                  "tr", "th", "td", "div", "strong", "code", "math", "mrow", "mi", "mo", "mn",
                                  "msub", "msup", "mfrac", "mover", "mtext", "mspace", "msubsup"}, path.name
    md = export.export(str(files[0]))
    assert r"\<script\>" in md and r"\$\\input" in md


def test_control_characters_in_names_are_shown_as_escapes(tmp_path):
    """A scenario file cannot carry them (the loader refuses), but a Scenario made in
    Python can: every format shows them as visible escapes."""
    import dataclasses

    sc = nnstep.load_scenario("note-network")
    sample = dataclasses.replace(sc.samples[0], name="Alice\x1b]52;c;aGk=\x07 \u202eevil")
    sc = dataclasses.replace(sc, name="net\x1b[2J", description="\x9b31m red", samples=(sample, *sc.samples[1:]))
    for fmt in export.FORMATS:
        out = export.export(sc, fmt=fmt)
        assert not RAW_CONTROL.search(out), fmt
        assert "x1b" in out and "u202e" in out


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX installation (pdflatex) here")
def test_hostile_latex_compiles(tmp_path):
    _pdflatex(export.export(str(_hostile_files(tmp_path)[0]), fmt="latex"), tmp_path)


# --------------------------------------------------------------------------- README


def test_the_readme_excerpt_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"## Worked examples.*?```markdown\n(.*?)```", readme, re.S)
    assert m, "README: the export section's markdown excerpt"
    excerpt = m.group(1)
    assert excerpt.count("\n") >= 5
    assert excerpt in export.export("note-network")


def test_straight_quotes_in_file_text_become_latex_quotes_that_open_and_close():
    from nnstep.export import tex_text

    assert tex_text('the "note" ("its" words)') == "the ``note'' (``its'' words)"
    assert tex_text('"a"') == "``a''"
