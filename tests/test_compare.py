"""``nnstep compare``: the learner's own program run beside nnstep's reference.

The note-style program in tests/compare_programs/ is run as it is (it must agree)
and as one-line mutants of the kinds learners write; each mutant must be named at
the right quantity, line and sample with the right hint."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from nnstep.cli import main
from nnstep.compare import CompareError, compare, format_text
from nnstep.debugger import Debugger
from nnstep.scenario import load_scenario

HERE = Path(__file__).parent
PROGRAMS = HERE / "compare_programs"
NOTE_STYLE = PROGRAMS / "note_style.py"
SEED = HERE.parent.parent / "shared" / "seed" / "seed_network.py"
if not SEED.exists():  # the worktree's ../shared link
    SEED = Path("/work/wt/shared/seed/seed_network.py")


def _line_of(text: str, needle: str) -> int:
    hits = [k for k, line in enumerate(text.splitlines(), 1) if line.strip() == needle]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def _replace(text: str, old: str, new: str) -> str:
    lines = text.splitlines()
    k = _line_of(text, old) - 1
    indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
    lines[k] = indent + new
    return "\n".join(lines) + "\n"


def _move_before(text: str, moved: str, before: str) -> str:
    lines = text.splitlines()
    k = _line_of(text, moved) - 1
    line = lines.pop(k)
    j = _line_of("\n".join(lines), before) - 1
    lines.insert(j, line)
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str, name: str = "mine.py") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ----------------------------------------------------------------------------- agreeing programs


def test_note_style_program_agrees_for_an_epoch_and_more():
    one = compare(NOTE_STYLE)
    assert one.agree and one.samples == 4
    # its inputs and target (3), every op nnstep has (31) and 9 parameter updates: 43 per sample
    assert one.compared == 43 * 4
    assert one.missing == []
    assert one.learn_rate == 0.1
    several = compare(NOTE_STYLE, epochs=7)
    assert several.agree and several.samples == 28 and several.compared == 43 * 28


def test_note_style_program_parameters_are_the_programs_own():
    """The reference starts from the learner's random.gauss draws, not the scenario's seed."""
    import random

    rng = random.Random(7)
    drawn = [rng.gauss(0.0, 1.0) for _ in range(9)]
    scenario_start = Debugger("note-network").initial
    assert drawn != scenario_start
    r = compare(NOTE_STYLE, samples=1)
    assert r.agree and r.samples == 1 and r.compared == 43


@pytest.mark.skipif(not SEED.exists(), reason="the study note's program is not beside the checkout")
def test_the_notes_own_program_agrees_through_its_evaluation_passes():
    # 12 epochs: the note evaluates the whole data set through feedforward after
    # epochs 0 and 10; those values must not be taken for training values
    r = compare(SEED, epochs=12)
    assert r.agree
    assert r.samples == 48
    # y_true, 7 forward values, 12 partials and 9 updates per sample; no L and no totals
    # (inlined into the updates); its inputs are x[0], x[1], not named
    assert r.compared == 29 * 48
    assert "L" in r.missing and "d_L_d_w1" in r.missing and "d_ypred_d_w5" not in r.missing
    assert r.output_lines == 2  # "Epoch 0 loss" and "Epoch 10 loss", kept out of the report
    text = format_text(r)
    assert "Epoch 0 loss" not in text
    assert "all 1392 values agree over 48 samples (12 epochs)." in text


@pytest.mark.skipif(not SEED.exists(), reason="the study note's program is not beside the checkout")
def test_the_notes_program_with_the_sign_flipped_by_hand(tmp_path, capsys):
    """The issue's "tried by hand": copy the note's program, flip the sign in d_L_d_ypred."""
    text = SEED.read_text()
    mutant = _replace(text, "d_L_d_ypred = -2 * (y_true - y_pred)", "d_L_d_ypred = 2 * (y_true - y_pred)")
    p = _write(tmp_path, mutant)
    assert main(["compare", str(p)]) == 1
    out = capsys.readouterr().out
    line = _line_of(mutant, "d_L_d_ypred = 2 * (y_true - y_pred)")
    first = out.splitlines()[0]
    assert first == f"{p}:{line}: d_L_d_ypred = 2 * (y_true - y_pred)"
    assert "epoch 1, sample 1 (Alice)" in out
    assert "d_L_d_ypred = -2 * (y_true - y_pred)" in out
    yours = float(out.split("yours:")[1].split()[0])
    expected = float(out.split("expected:")[1].split()[0])
    assert yours == pytest.approx(-expected) and yours > 0
    assert "hint:      the sign is flipped" in out


# ----------------------------------------------------------------------------- mutants


def _reference_value(name: str, sample: int, epoch: int = 1) -> float:
    """nnstep's value of ``name`` in the note-style program's own start (seed 7 gauss)."""
    import dataclasses
    import random

    rng = random.Random(7)
    drawn = [rng.gauss(0.0, 1.0) for _ in range(9)]
    sc = load_scenario("note-network")
    dbg = Debugger(dataclasses.replace(sc, given=dict(zip(sc.parameter_names, drawn))))
    if name in ("x1", "x2", "y_true"):  # data, not an op
        s = sc.samples[sample - 1]
        return {"x1": s.x[0], "x2": s.x[1], "y_true": s.y[0]}[name]
    dbg.goto_position(epoch - 1, sample - 1, name)
    return dbg.value(name)


MUTANTS = [
    # id, old line, new line, quantity, sample, hint fragment
    ("sign", "d_L_d_ypred = -2 * (y_true - y_pred)", "d_L_d_ypred = 2 * (y_true - y_pred)",
     "d_L_d_ypred", 1, "the sign is flipped"),
    ("factor-2", "d_L_d_ypred = -2 * (y_true - y_pred)", "d_L_d_ypred = -(y_true - y_pred)",
     "d_L_d_ypred", 1, "a factor 2 is missing"),
    ("sigma-prime-inline", "d_ypred_d_w5 = h1 * sigmoid_prime(sum_o1)",
     "d_ypred_d_w5 = h1 * sigmoid(sum_o1) * (1 + sigmoid(sum_o1))",
     "d_ypred_d_w5", 1, "σ′ written wrong"),
    ("chain-factor", "d_L_d_w1 = d_L_d_h1 * d_h1_d_w1", "d_L_d_w1 = d_L_d_h1 * d_h1_d_w2",
     "d_L_d_w1", 1, "a wrong factor in the chain product: d_h1_d_w2 where d_h1_d_w1 belongs"),
    ("lr-twice", "w2 -= learn_rate * d_L_d_w2", "w2 -= learn_rate * learn_rate * d_L_d_w2",
     "w2", 1, "the learning rate is applied twice"),
    ("wrong-way", "w4 -= learn_rate * d_L_d_w4", "w4 += learn_rate * d_L_d_w4",
     "w4", 1, "the update goes the wrong way"),
    ("wrong-gradient", "w6 -= learn_rate * d_L_d_w6", "w6 -= learn_rate * d_L_d_w5",
     "w6", 1, "w6 is updated with the gradient of w5"),
    ("off-by-one-target", "y_true = targets[i]", "y_true = targets[i - 1]",
     "y_true", 2, "this is the value for sample 1 (Alice), not sample 2: an off-by-one"),
    ("off-by-one-rows", "x1, x2 = rows[i]", "x1, x2 = rows[i + 1]",
     "x1", 1, "this is the value for sample 2 (Bob), not sample 1: an off-by-one"),
]


@pytest.mark.parametrize("mid, old, new, name, sample, hint", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_is_pinpointed(tmp_path, mid, old, new, name, sample, hint):
    mutant = _replace(NOTE_STYLE.read_text(), old, new)
    r = compare(_write(tmp_path, mutant))
    d = r.first_difference
    assert d is not None, mid
    assert (d.name, d.epoch, d.sample) == (name, 1, sample)
    assert d.line == _line_of(mutant, new.strip())
    assert d.code == new.strip()
    assert hint in d.hint
    assert d.expected == pytest.approx(_reference_value(name, sample), rel=1e-12)
    assert not math.isclose(d.yours, d.expected, rel_tol=1e-9)
    # the text report says the same, and its numbers read back exactly
    text = format_text(r)
    assert text.splitlines()[0] == f"{r.program}:{d.line}: {new.strip()}"
    assert f"first difference: {name} in epoch 1, sample {sample} ({d.sample_name})" in text
    assert float(text.split("yours:")[1].split()[0]) == d.yours
    assert float(text.split("expected:")[1].split()[0]) == d.expected
    assert f"hint:      {d.hint}" in text


def test_sigma_prime_wrong_in_the_helper_is_named_at_its_first_use(tmp_path):
    text = NOTE_STYLE.read_text()
    mutant = _replace(text, "return s * (1.0 - s)", "return z * (1.0 - z)")
    d = compare(_write(tmp_path, mutant)).first_difference
    assert d is not None and d.name == "d_ypred_d_w5"
    assert d.line == _line_of(mutant, "d_ypred_d_w5 = h1 * sigmoid_prime(sum_o1)")
    assert "σ′ written wrong" in d.hint and "applied to the sum" in d.hint
    where = _line_of(mutant, "def sigmoid_prime(z):")
    assert d.hint.endswith(f"your line calls sigmoid_prime() (defined on line {where})")


def test_update_before_the_gradient_that_needs_the_old_value(tmp_path):
    mutant = _move_before(NOTE_STYLE.read_text(), "w5 -= learn_rate * d_L_d_w5",
                          "d_ypred_d_h1 = w5 * sigmoid_prime(sum_o1)")
    d = compare(_write(tmp_path, mutant)).first_difference
    assert d is not None
    assert d.name == "d_ypred_d_h1" and d.sample == 1
    assert d.line == _line_of(mutant, "d_ypred_d_h1 = w5 * sigmoid_prime(sum_o1)")
    assert "computed with w5 already updated in this sample" in d.hint


def test_missing_bias_update(tmp_path):
    text = NOTE_STYLE.read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() != "b3 -= learn_rate * d_L_d_b3"]
    assert len(lines) == len(text.splitlines()) - 1
    mutant = "\n".join(lines) + "\n"
    r = compare(_write(tmp_path, mutant))
    d = r.first_difference
    assert d is not None and d.missing_update
    assert (d.name, d.epoch, d.sample) == ("b3", 1, 1)
    # named after the last update the sample made, where b3's would follow
    assert d.line == _line_of(mutant, "w6 -= learn_rate * d_L_d_w6")
    assert "b3 is never updated in this sample" in d.hint
    assert d.yours == pytest.approx(_reference_value("b3", 1) + 0.1 * _reference_value("d_L_d_b3", 1))
    assert "never updated: b3 in epoch 1, sample 1 (Alice)" in format_text(r)


def test_difference_in_a_later_epoch_is_found(tmp_path):
    """A mistake that only shows after the first epoch: the learning rate halves from epoch 2."""
    text = NOTE_STYLE.read_text()
    mutant = _replace(text, "x1, x2 = rows[i]", "x1, x2 = rows[i]; learn_rate = 0.1 if epoch == 0 else 0.05")
    assert compare(_write(tmp_path, mutant)).agree
    d = compare(_write(tmp_path, mutant), epochs=2).first_difference
    assert d is not None and (d.name, d.epoch, d.sample) == ("w1", 2, 1)
    assert d.hint == "your learning rate is 0.05 here, not 0.1 as when training started"


# ----------------------------------------------------------------------------- names that differ

RENAMED = {"d_L_d_ypred": "dL_dy", "y_pred": "prediction", "d_ypred_d_w5": "dy_dw5"}


def _renamed_program() -> str:
    text = NOTE_STYLE.read_text()
    for ours, theirs in RENAMED.items():
        text = re.sub(rf"\b{ours}\b", theirs, text)
    return text


def test_other_names_agree_through_a_mapping(tmp_path):
    p = _write(tmp_path, _renamed_program())
    plain = compare(p)
    assert plain.agree
    assert {"d_L_d_ypred", "y_pred", "d_ypred_d_w5"} <= set(plain.missing)
    mapped = compare(p, mapping=[",".join(f"{k}={v}" for k, v in RENAMED.items())])
    assert mapped.agree and mapped.missing == [] and mapped.compared == 43 * 4


def test_mapping_comments_in_the_file(tmp_path):
    text = _renamed_program()
    text = _replace(text, "dL_dy = -2 * (y_true - prediction)", "dL_dy = -2 * (y_true - prediction)  # nnstep: d_L_d_ypred")
    text = text.replace("import random\n", "import random\n# nnstep: y_pred=prediction, d_ypred_d_w5=dy_dw5\n")
    r = compare(_write(tmp_path, text))
    assert r.agree and r.missing == []
    # and a mapped name is pinpointed like any other
    bad = _replace(text, "dL_dy = -2 * (y_true - prediction)  # nnstep: d_L_d_ypred",
                   "dL_dy = 2 * (y_true - prediction)  # nnstep: d_L_d_ypred")
    d = compare(_write(tmp_path, bad)).first_difference
    assert d is not None and d.name == "d_L_d_ypred" and d.hint == "the sign is flipped"


ARRAY_PROGRAM = '''\
import numpy as np


class Net:
    def __init__(self):
        np.random.seed(3)
        self.W1 = np.random.normal(size=(2, 2))  # row: hidden neuron, column: input
        self.W2 = np.random.normal(size=2)
        self.B = np.random.normal(size=3)

    def step(self, x, y_true, lr):
        s = self.W1 @ x + self.B[:2]  # nnstep: sum_h1=s[0], sum_h2=s[1]
        h = 1 / (1 + np.exp(-s))  # nnstep: h1=h[0], h2=h[1]
        sum_o1 = self.W2 @ h + self.B[2]
        y_pred = 1 / (1 + np.exp(-sum_o1))
        d_L_d_ypred = -2 * (y_true - y_pred)
        g_out = d_L_d_ypred * y_pred * (1 - y_pred)
        g_hidden = g_out * self.W2 * h * (1 - h)
        self.W1 -= lr * np.outer(g_hidden, x)
        self.B[:2] -= lr * g_hidden
        self.W2 -= lr * g_out * h
        self.B[2] -= lr * g_out


# nnstep: w1=self.W1[0, 0], w2=self.W1[0, 1], w3=self.W1[1, 0], w4=self.W1[1, 1]
# nnstep: w5=self.W2[0], w6=self.W2[1], b1=self.B[0], b2=self.B[1], b3=self.B[2]
X = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
Y = np.array([1.0, 0.0, 0.0, 1.0])
net = Net()
for epoch in range(50):
    for x, y in zip(X, Y):
        net.step(x, y, 0.1)
'''


def test_parameters_kept_in_arrays_are_mapped(tmp_path):
    p = _write(tmp_path, ARRAY_PROGRAM)
    r = compare(p, epochs=3)
    assert r.agree, format_text(r)
    assert r.samples == 12
    # 6 forward values, d_L_d_ypred and 9 parameters per sample, less the updates that are
    # too small to change a parameter (Bob and Charlie saturate the hidden sigmoids)
    assert 7 * 12 < r.compared <= 16 * 12
    assert "learn_rate" not in r.missing and r.learn_rate == 0.1  # found under the name lr
    bad = _write(tmp_path, ARRAY_PROGRAM.replace("self.B[2] -= lr * g_out", "self.B[2] -= lr * g_out * 2"),
                 "bad.py")
    d = compare(bad).first_difference
    assert d is not None and d.name == "b3" and d.code == "self.B[2] -= lr * g_out * 2"


def test_bad_mappings_are_one_located_line(tmp_path, capsys):
    assert main(["compare", str(NOTE_STYLE), "--map", "d_L_d_ypr=dL_dy"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("--map: 'd_L_d_ypr' is not one of nnstep's names for this scenario; "
                           "did you mean 'd_L_d_ypred'?")
    p = _write(tmp_path, "x = 1\nmine = 2  # nnstep: d_L_d_ypred=mine()\n")
    assert main(["compare", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{p}:2: 'mine()' is not a name")


# ----------------------------------------------------------------------------- programs that fail


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    ("# A title\n\nThis is — not Python.\n", "not a Python program"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a Python program"),
    ("print('hello')\nx = 3\n", "never assigns any of nnstep's names"),
    ("h1 = 0.5\nsum_h1 = 0.1\n", "no training step"),
    ("d_L_d_ypred = 1.0\n", "a layered scenario with one output"),
], ids=["missing", "markdown", "binary", "no-known-name", "forward-only", "graph-scenario"])
def test_programs_that_cannot_be_compared(tmp_path, capsys, content, reason):
    p = tmp_path / "prog.py"
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif content is not None:
        p.write_text(content)
    scenario = ["circuit"] if "layered" in reason else []
    assert main(["compare", str(p), *scenario]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "hello" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"{p}" if not scenario else "") and reason in err
    assert "Traceback" not in err


def test_a_program_that_raises_is_reported_with_its_line(tmp_path, capsys):
    text = _replace(NOTE_STYLE.read_text(), "L = (y_true - y_pred) ** 2", "L = (y_true - y_pred) ** 2 + 0 / (i - 2)")
    p = _write(tmp_path, text)
    assert main(["compare", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    line = _line_of(text, "L = (y_true - y_pred) ** 2 + 0 / (i - 2)")
    # the first two samples agree (43 values each); the third divides by zero in its
    # forward pass, whose values wait for a gradient before they count as training
    assert err == f"{p}:{line}: your program raised ZeroDivisionError: division by zero (after 86 values agreed)"


def test_the_programs_output_stays_out_of_the_report(tmp_path, capsys):
    text = NOTE_STYLE.read_text().replace("            y_true = targets[i]\n",
                                          "            y_true = targets[i]\n            print('noise', i)\n")
    p = _write(tmp_path, text)
    assert main(["compare", str(p), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "noise" not in out
    assert json.loads(out)["agree"] is True


def test_a_program_that_catches_everything_is_still_stopped(tmp_path):
    text = NOTE_STYLE.read_text().replace("    train(people, is_female, epochs=300)",
                                          "    while True:\n        try:\n            train(people, is_female, "
                                          "epochs=300)\n        except Exception:\n            pass")
    r = compare(_write(tmp_path, text))
    assert r.agree and r.samples == 4


def test_runaway_program_is_bounded(tmp_path):
    p = _write(tmp_path, "h1 = 0.5\nwhile True:\n    pass\n")
    with pytest.raises(CompareError, match="stopped after 10,000 traced lines"):
        compare(p, max_lines=10_000)


# ----------------------------------------------------------------------------- formats


def test_json_format(tmp_path, capsys):
    mutant = _replace(NOTE_STYLE.read_text(), "d_h1_d_w2 = x2 * sigmoid_prime(sum_h1)",
                      "d_h1_d_w2 = x1 * sigmoid_prime(sum_h1)")
    p = _write(tmp_path, mutant)
    assert main(["compare", str(p), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"agree", "compared", "samples", "missing", "first_difference"}
    d = doc["first_difference"]
    assert doc["agree"] is False
    assert set(d) == {"name", "epoch", "sample", "sample_name", "line", "code", "yours", "expected",
                      "formula", "hint"}
    assert (d["name"], d["epoch"], d["sample"], d["sample_name"]) == ("d_h1_d_w2", 1, 1, "Alice")
    assert d["line"] == _line_of(mutant, "d_h1_d_w2 = x1 * sigmoid_prime(sum_h1)")
    assert d["expected"] == _reference_value("d_h1_d_w2", 1)
    # x1 = -2 where x2 = -1 belongs: twice the right value (a factor, reported as such)
    assert d["yours"] == pytest.approx(2 * d["expected"])
    assert d["formula"].startswith("d_h1_d_w2 = x2 * deriv_sigmoid(sum_h1)")
    # before it agreed: x1, x2, y_true, 8 forward values, d_L_d_ypred, 6 output-layer values,
    # 4 for h1, h2 and d_h1_d_w1
    assert doc["compared"] == 23

    assert main(["compare", str(NOTE_STYLE), "--format", "json", "--samples", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"agree": True, "compared": 86, "samples": 2, "missing": [], "first_difference": None}


# ----------------------------------------------------------------------------- the documentation


def _console_blocks(text: str) -> list[tuple[str, str]]:
    """(command, output) of every ```console block (indented ones too)."""
    blocks = []
    for m in re.finditer(r"^( *)```console\n(.*?)^\1```", text, re.S | re.M):
        lines = [ln[len(m.group(1)):] for ln in m.group(2).splitlines()]
        assert lines[0].startswith("$ ")
        blocks.append((lines[0][2:], "\n".join(lines[1:]) + "\n"))
    return blocks


@pytest.mark.skipif(not SEED.exists(), reason="the study note's program is not beside the checkout")
def test_the_worked_examples_in_the_docs(tmp_path, monkeypatch, capsys):
    doc = (HERE.parent / "docs" / "compare.md").read_text()
    blocks = _console_blocks(doc)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    text = NOTE_STYLE.read_text()
    (tmp_path / "network.py").write_text(SEED.read_text())
    programs = [
        _replace(text, "d_L_d_ypred = -2 * (y_true - y_pred)", "d_L_d_ypred = 2 * (y_true - y_pred)"),
        None,
        _replace(text, "L = (y_true - y_pred) ** 2", "L = (y_true - y_pred) ** 2 + 0 / (i - 2)"),
    ]
    for (command, expected), program in zip(blocks, programs):
        if program is not None:
            (tmp_path / "mine.py").write_text(program)
        argv = command.split()
        assert argv[0] == "nnstep"
        code = main(argv[1:])
        out, err = capsys.readouterr()
        assert out + err == expected, command
        assert code == (1 if "first difference" in expected else 2 if err else 0)
    # the JSON shown is what --format json prints for the first example
    (tmp_path / "mine.py").write_text(programs[0])
    shown = json.loads(re.search(r"```json\n(.*?)```", doc, re.S).group(1))
    assert main(["compare", "mine.py", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == shown


# ----------------------------------------------------------------------------- the TUI


async def test_tui_opens_at_the_first_difference_with_the_learners_source(tmp_path):
    pytest.importorskip("textual")
    from nnstep.tui.compare import CompareApp, SourceView
    from nnstep.tui.testing import settle

    mutant = _replace(NOTE_STYLE.read_text(), "d_ypred_d_w6 = h2 * sigmoid_prime(sum_o1)",
                      "d_ypred_d_w6 = h2 * sigmoid_prime(sum_o1) * 2")
    result = compare(_write(tmp_path, mutant), epochs=2)
    d = result.first_difference
    assert d is not None and d.name == "d_ypred_d_w6"
    app = CompareApp(result)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        assert dbg is not None
        assert dbg.current_op.name == "d_ypred_d_w6" and dbg.position()[:2] == (0, 0)
        view = app.query_one(SourceView)
        assert view.current == d.line and view.differs
        line = view.text_lines(170)[d.line - 1]
        assert "d_ypred_d_w6 = h2 * sigmoid_prime(sum_o1) * 2" in line
        # both values side by side, as printed: parse them back
        yours = float(line.split("yours ")[1].split()[0])
        ours = float(line.split("nnstep ")[1].split()[0])
        assert yours == pytest.approx(d.yours, rel=1e-9) and ours == pytest.approx(d.expected, rel=1e-9)
        assert ours == pytest.approx(dbg.value("d_ypred_d_w6"), rel=1e-9)
        assert "first difference: d_ypred_d_w6" in app.message
        # the border says it too (the line may be too narrow for the values)
        sub = view.border_subtitle
        assert sub.startswith(f"line {d.line}: ✗ yours ")
        assert float(sub.split("yours ")[1].split()[0]) == pytest.approx(d.yours, rel=1e-5)
        assert float(sub.split("nnstep ")[1].split()[0]) == pytest.approx(d.expected, rel=1e-5)
        # stepping moves both: back one op is d_ypred_d_w5, on its own line, agreeing
        await pilot.press("p")
        await pilot.pause()
        assert dbg.current_op.name == "d_ypred_d_w5"
        assert view.current == _line_of(mutant, "d_ypred_d_w5 = h1 * sigmoid_prime(sum_o1)")
        assert not view.differs
        line = view.text_lines(170)[view.current - 1]
        yours = float(line.split("yours ")[1].split()[0])
        ours = float(line.split("nnstep ")[1].split()[0])
        assert yours == pytest.approx(ours, rel=1e-9)
        # a quantity the program never reached before it was stopped has no line
        await pilot.press("n", "n")
        await pilot.pause()
        assert dbg.current_op.name == "d_ypred_d_b3"
        assert view.current is None
        assert view.border_subtitle == "no line of yours assigned d_ypred_d_b3 before the comparison stopped"


async def test_tui_source_is_text_not_markup(tmp_path):
    pytest.importorskip("textual")
    from nnstep.tui.compare import CompareApp, SourceView
    from nnstep.tui.testing import settle

    text = NOTE_STYLE.read_text().replace("import math\n", "import math  # [bold]x[/bold] \x1b[31m red\n", 1)
    result = compare(_write(tmp_path, text), samples=1)
    assert result.agree
    app = CompareApp(result)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(app, pilot)
        lines = app.query_one(SourceView).text_lines(170)
        first = next(ln for ln in lines if "import math" in ln)
        assert "[bold]x[/bold]" in first and "\\x1b[31m" in first and "\x1b" not in first
        assert "all 43 values agree" in app.message


from nnstep.tui.testing import run_async_tests  # noqa: E402

run_async_tests(globals())


def test_on_a_terminal_without_format_the_debugger_opens(tmp_path, monkeypatch):
    pytest.importorskip("textual")
    from nnstep.tui import compare as screen

    opened = []
    monkeypatch.setattr(screen.CompareApp, "run", lambda self: opened.append(self.result))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    mutant = _replace(NOTE_STYLE.read_text(), "d_L_d_ypred = -2 * (y_true - y_pred)", "d_L_d_ypred = 2 * (y_true - y_pred)")
    assert main(["compare", str(_write(tmp_path, mutant))]) == 1
    assert len(opened) == 1 and opened[0].first_difference.name == "d_L_d_ypred"
    assert main(["compare", str(NOTE_STYLE), "--format", "text"]) == 0
    assert len(opened) == 1  # an explicit format prints instead
