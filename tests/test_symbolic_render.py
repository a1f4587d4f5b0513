"""Renderings of nnstep.symbolic: LaTeX names, update left-hand sides, Unicode
pretty print whatever SymPy's global flag says, and substituted-but-unevaluated
formulas."""

from __future__ import annotations

import math

import pytest

import nnstep
from nnstep.debugger import Debugger

sp = pytest.importorskip("sympy")

from sympy.printing.pretty.pretty_symbology import pretty_use_unicode  # noqa: E402

from nnstep.symbolic import Symbolic, latex, one_line, pretty, sigmoid  # noqa: E402


@pytest.fixture(scope="module")
def note():
    dbg = Debugger(nnstep.load_scenario())
    return dbg, Symbolic(dbg.program)


# --------------------------------------------------------------------------- LaTeX names


@pytest.mark.parametrize("name,want", [
    ("d_L_d_w1", r"\mathrm{d\_L\_d\_w1}"),  # an identifier, never d_{L,d,w_1}
    ("d_L_d_ypred", r"\mathrm{d\_L\_d\_ypred}"),
    ("d_h1_d_w1", r"\mathrm{d\_h1\_d\_w1}"),
    ("h1_2", "h_{1,2}"),  # SymPy: h_{1 2}
    ("h1_10", "h_{1,10}"),
    ("a__b", r"\mathrm{a\_\_b}"),  # SymPy: a^{b}
    ("w1", "w_{1}"),
    ("x1", "x_{1}"),
    ("w10", "w_{10}"),
    ("sum_h1", r"\mathrm{sum}_{h_{1}}"),
    ("sum_h1_2", r"\mathrm{sum}_{h_{1,2}}"),
    ("sum_hike", r"\mathrm{sum}_{\text{hike}}"),
    ("hike", r"\mathrm{hike}"),
    ("y_true", r"y_{\text{true}}"),
    ("y_true_hike", r"y_{\text{true},\text{hike}}"),
    ("y_pred", r"\hat{y}"),
    ("sepal_length", r"\mathrm{sepal\_length}"),
    ("learn_rate", r"\eta"),
])
def test_latex_names(name, want):
    assert latex(sp.Symbol(name)) == want


def test_latex_of_the_notes_ops_has_no_garbled_subscripts(note):
    dbg, sy = note
    for op in dbg.ops:
        tex = sy.formula(op).latex
        assert "{L d " not in tex and "{h1 d " not in tex and "{ypred d " not in tex, (op.name, tex)
        for name in dbg.program.slot:
            if name.count("_") > 1 and name in op.code:
                assert "_{" + " ".join(name.split("_")[1:]) + "}" not in tex, (op.name, tex)


def test_update_marks_the_new_value(note):
    dbg, sy = note
    f = sy.formula(dbg.program.by_name["w1"])
    assert f.text == "new w1 = w1 - learn_rate·d_L_d_w1"  # the program's order
    assert f.latex == r"w_{1} \leftarrow w_{1} - \eta \, \frac{\partial L}{\partial w_{1}}"
    assert dbg.program.by_name["w1"].name == "w1"  # the op keeps its name


def test_other_left_hand_sides_unchanged(note):
    dbg, sy = note
    by = dbg.program.by_name
    assert sy.formula(by["h1"]).latex == r"h_{1} = \sigma\left(\mathrm{sum}_{h_{1}}\right)"
    assert sy.formula(by["d_h1_d_w1"]).latex.startswith(r"\frac{\partial h_{1}}{\partial w_{1}} = ")
    assert sy.formula(by["d_L_d_w1"]).text == "∂L/∂w1 = ∂L/∂ŷ·∂ŷ/∂h1·∂h1/∂w1"


# --------------------------------------------------------------------------- pretty


@pytest.fixture
def ascii_globally():
    previous = pretty_use_unicode(False)
    try:
        yield
    finally:
        pretty_use_unicode(previous)


def test_pretty_is_unicode_even_when_sympy_is_set_to_ascii(ascii_globally):
    x, y = sp.symbols("sum_h1 y_true")
    text = pretty((y - sigmoid(x)) ** 2 / 2 + x * y)
    assert "─" in text and "⋅" in text and "σ(sum_h1)" in text
    assert "---" not in text and "*" not in text
    assert pretty_use_unicode() is False  # the global is left as it was


# --------------------------------------------------------------------------- substituted


def test_substituted_sum_keeps_the_sum(note):
    dbg, sy = note
    dbg.goto_position(0, 0, "sum_h1")
    op = dbg.program.by_name["sum_h1"]
    values = {n: dbg.value(n) for n in dbg.program.slot}
    shown = sy.substituted(op, values)
    assert isinstance(shown, sp.Add) and not shown.free_symbols
    text = one_line(shown)
    assert text.count(" + ") + text.count(" - ") == 2 and "·" in text
    assert math.isclose(float(shown.evalf()), dbg.value("sum_h1"), rel_tol=1e-5)


def test_substituted_every_op_unevaluated_and_correct():
    dbg = Debugger(nnstep.load_scenario())
    sy = Symbolic(dbg.program)
    kinds = set()
    for op in dbg.ops:
        values = {n: dbg.value(n) for n in dbg.program.slot}
        if op.kind == "update":
            values.update(dbg.old_parameters())
        dbg.step()
        shown = sy.substituted(op, values)
        assert not shown.free_symbols, op.name
        if op.kind != "alias":  # y_pred = o1 is one number either way
            assert not shown.is_Number, (op.name, shown)
            kinds.add(op.kind)
        value = dbg.value(op.name)
        got = float(shown.evalf())
        assert math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-6), (op.name, one_line(shown), got, value)
        # every rendering works on it
        assert one_line(shown) and latex(shown) and pretty(shown)
    assert kinds == {"sum", "activation", "loss", "partial", "total", "update"}


def test_substituted_shows_the_numbers_readably(note):
    dbg, sy = note
    x = sp.Symbol("x")
    # negative numbers in a product and after a minus sign get parentheses
    e = sy.substituted(dbg.program.by_name["b3"], {"b3": -0.103219, "d_L_d_b3": -0.253115, "learn_rate": 0.1})
    m = sp.Mul(sp.Float(1.5, 6), sp.Float(-2.0, 6), evaluate=False)
    assert one_line(e) == "-0.103219 - 0.1·(-0.253115)"
    assert pretty(e) == "-0.103219 - 0.1⋅(-0.253115)"
    assert pretty(m) == "1.5⋅(-2.0)"
    # ordinary formulas print as before
    assert pretty(-2 * x) == "-2⋅x" and one_line(-2 * x) == "-2·x"
    op = dbg.program.by_name["L"]
    shown = sy.substituted(op, {"y_true": 1.0, "y_pred": 0.25})
    assert one_line(shown) == "(1.0 - 0.25)^2"
    shown = sy.substituted(dbg.program.by_name["d_L_d_ypred"], {"y_true": 1.0, "y_pred": 0.25})
    assert one_line(shown) == "-2·(1.0 - 0.25)"  # the note's form, numbers in place


def test_substituted_keeps_names_without_values(note):
    dbg, sy = note
    shown = sy.substituted(dbg.program.by_name["sum_h1"], {"w1": 0.5, "x1": 2.0})
    assert {s.name for s in shown.free_symbols} == {"b1", "w2", "x2"}
    assert "0.5·2.0" in one_line(shown)


# --------------------------------------------------------------------------- expanded view


@pytest.mark.parametrize("scenario", ["note-network", "xor", "relu-softmax", "circuit", "sigmoid-neuron"])
def test_each_expanded_formula_is_the_level_by_level_one_and_gives_the_ops_value(scenario):
    # Symbolic.expanded builds each op's expansion from those of the ops it reads (each
    # made once); it must equal putting in one level at a time (Symbolic._expand), and,
    # evaluated at the sample's inputs, targets and starting parameters, give the value
    dbg = Debugger(nnstep.load_scenario(scenario))
    sy, slow = Symbolic(dbg.program), Symbolic(dbg.program)
    dbg.finish_sample()  # the first sample's ops all run: each holds its value
    leaves = {**dbg.old_parameters(), "learn_rate": dbg.value("learn_rate")}
    leaves.update({n: dbg.value(n) for n in (*dbg.program.inputs, *dbg.program.targets)})
    program = dbg.program
    for op in program.ops:
        got = sy.expanded(op)
        assert got is not None, op.name
        if len(program.ops) <= 40 or op.index < program.loss_end:  # the slow way is slow
            assert sp.srepr(got) == sp.srepr(slow._expand(slow.formula(op).formula)), op.name
        assert {s.name for s in got.free_symbols} <= set(leaves), op.name
        number = float(got.xreplace({s: sp.Float(leaves[s.name], 30) for s in got.free_symbols}).evalf(30))
        assert number == pytest.approx(dbg.value(op.name), rel=1e-12, abs=1e-300), op.name
