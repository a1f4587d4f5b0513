"""Bounded work: exact-number blow-ups, program sizes and build errors are refused
before the work starts, each as one located line naming the limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nnstep
from nnstep.build import build_program
from nnstep.errors import ScenarioError
from nnstep.layered import op_count
from nnstep.program import MAX_OPS
from nnstep.scenario import bundled, parse_scenario

TOWER = """\
[graph]
parameters = ["x"]

[graph.nodes]
f = "x * (x - x + 10)**((x - x + 10)**(x - x + 10))"
"""

TOWER_THROUGH_A_FORMULA = """\
[graph]
parameters = ["x"]

[graph.nodes]
q = "x - x + 10"
f = "x * q ** (q ** q)"
"""


def refusal(tmp_path: Path, text: str, name: str = "s.toml") -> ScenarioError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        build_program(nnstep.load_scenario(path))
    err = info.value
    assert err.file == str(path) and "\n" not in str(err)
    assert str(err).startswith(f"{path}:{err.line}: {err.key}: ")
    return err


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_exponent_tower_is_refused_at_its_formula(tmp_path):
    err = refusal(tmp_path, TOWER)
    assert (err.key, err.line) == ("graph.nodes.f", line_of(TOWER, "f = "))
    assert "10,000 bits" in err.reason


def test_a_tower_built_from_a_constant_formula_is_refused_where_it_is_used(tmp_path):
    # each formula alone is harmless; q = 10 put into f (the expanded view) is 10**(10**10)
    err = refusal(tmp_path, TOWER_THROUGH_A_FORMULA)
    assert (err.key, err.line) == ("graph.nodes.f", line_of(TOWER_THROUGH_A_FORMULA, "f = "))
    assert "10,000 bits" in err.reason


def test_a_large_but_allowed_constant_formula_still_builds(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(TOWER_THROUGH_A_FORMULA.replace('"x * q ** (q ** q)"', '"x * q ** (q + 90)"'))
    program = build_program(nnstep.load_scenario(path))
    assert "d_f_d_x" in program.by_name


def test_smaller_towers_give_one_line_not_a_conversion_traceback(tmp_path):
    # 10**5000 exceeds Python's 4,300-digit limit for printing an integer
    err = refusal(tmp_path, TOWER.replace("((x - x + 10)**(x - x + 10))", "(x - x + 5000)"))
    assert "10,000 bits" in err.reason and "4300" not in err.reason


NETWORK = """\
[network]
inputs = ["a"]
layers = [
  {{ neurons = 2, activation = "tanh" }},
  {{ neurons = 1, activation = {{ name = "odd", formula = "{formula}" }} }},
]
loss = "mse"

[[samples]]
x = [1]
y = [0]
"""


@pytest.mark.parametrize("formula, words", [
    ("x * sqrt(x - x - 1)", "cannot be computed"),  # the derivative is the imaginary unit
    ("x * (x - x + 10)**((x - x + 10)**(x - x + 10))", "10,000 bits"),
])
def test_a_custom_activation_sympy_cannot_handle_is_located_at_its_formula(tmp_path, formula, words):
    text = NETWORK.format(formula=formula)
    err = refusal(tmp_path, text)
    assert err.key == "network.layers #2: activation.formula"
    assert err.line == line_of(text, "odd") and words in err.reason
    assert len(str(err)) < 400


@pytest.mark.parametrize("path", [p for p in bundled() if nnstep.load_scenario(p).graph is None],
                         ids=lambda p: p.stem)
def test_op_count_is_the_built_program_size(path):
    sc = nnstep.load_scenario(path)
    assert op_count(sc) == len(build_program(sc).ops) <= MAX_OPS // 50  # iris has a margin of 60


@pytest.mark.parametrize("layers, loss", [
    ("[{ neurons = 3, activation = \"relu\" }, { neurons = 2, activation = \"tanh\" }, "
     "{ neurons = 4, activation = \"softmax\" }]", "cross_entropy"),
    ("[{ neurons = 2, activation = \"sigmoid\", bias = false }, { neurons = 3, activation = "
     "{ name = \"sq\", formula = \"x / (1 + abs(x))\" } }, { neurons = 1, activation = \"linear\" }]", "mse"),
    ("[{ neurons = 5, activation = \"sigmoid\" }]", "mse"),
])
def test_op_count_on_other_shapes(tmp_path, layers, loss):
    outputs = int(re.findall(r"neurons = (\d+)", layers)[-1])
    y = [1] + [0] * (outputs - 1)
    path = tmp_path / "n.toml"
    path.write_text(f'[network]\ninputs = ["a", "b"]\nlayers = {layers}\nloss = "{loss}"\n'
                    f"[[samples]]\nx = [1, 2]\ny = {y}\n")
    sc = nnstep.load_scenario(path)
    assert op_count(sc) == len(build_program(sc).ops)


def wide_softmax(custom: bool) -> str:
    act = '{ name = "soft", formula = "x / (1 + abs(x))" }' if custom else '"tanh"'
    return ('name = "one neuron into a 512-way softmax"\n[network]\ninputs = ["a"]\n'
            f'layers = [{{ neurons = 1, activation = {act} }}, {{ neurons = 512, activation = "softmax" }}]\n'
            'loss = "cross_entropy"\n[training]\nepochs = 1\n'
            f"[[samples]]\nx = [1]\ny = [1{', 0' * 511}]\n")


def test_a_512_way_softmax_is_refused_before_it_is_built(tmp_path):
    err = refusal(tmp_path, wide_softmax(custom=True))
    assert err.key == "network.layers"
    assert "267,786 ops" in err.reason and f"{MAX_OPS:,}" in err.reason


def dense_graph(parameters: int, formulas: int) -> str:
    """Every formula reads every parameter and every formula above it (a sum in
    parenthesised groups of 40, within the parser's depth bound)."""
    params = [f"p{i}" for i in range(parameters)]
    lines = ["[graph]", f"parameters = {params!r}".replace("'", '"'), "", "[graph.nodes]"]
    names: list[str] = []
    for i in range(formulas):
        terms = params + names
        groups = ["(" + "+".join(terms[k:k + 40]) + ")" for k in range(0, len(terms), 40)]
        lines.append(f'n{i} = "{"+".join(groups)}"')
        names.append(f"n{i}")
    return "\n".join(lines) + "\n"


def test_a_graph_needing_too_many_partials_is_refused_from_its_names(tmp_path):
    from nnstep.graph import MAX_PARTIALS

    # 100 parameters, 256 formulas each reading every earlier one: 58,000 partials
    text = dense_graph(100, 256)
    assert len(text) > 200_000
    err = refusal(tmp_path, text)
    assert err.key == "graph.nodes" and f"{MAX_PARTIALS:,}" in err.reason


def test_a_graph_whose_derivatives_would_take_too_long_is_refused(tmp_path):
    from nnstep.graph import MAX_DIFF_NODES, MAX_PARTIALS

    # few partials, but each differentiates a long formula
    long = " + ".join(f"exp(a * b * {k})" for k in range(1, 60))
    text = '[graph]\nparameters = ["a", "b"]\n\n[graph.nodes]\n' + "".join(
        f'n{i} = "{long} + {" + ".join(f"n{j}" for j in range(i))}"\n'.replace(" + \"", "\"")
        for i in range(30))
    sc_partials = 30 * 2 + 30 * 29 // 2
    assert sc_partials < MAX_PARTIALS
    err = refusal(tmp_path, text)
    assert err.key.startswith("graph.nodes.") and f"{MAX_DIFF_NODES:,}" in err.reason


def test_derived_formulas_past_the_budget_are_refused(monkeypatch):
    from nnstep import graph

    sc = nnstep.load_scenario("sigmoid-neuron")
    assert any(op.kind == "partial" for op in build_program(sc).ops)
    monkeypatch.setattr(graph, "MAX_DERIVED_NODES", 20)
    with pytest.raises(ScenarioError) as info:
        build_program(sc)
    assert info.value.key.startswith("graph.nodes.") and "more than 20 operations in all" in info.value.reason


def test_build_errors_are_cut_and_made_visible(tmp_path):
    from nnstep.program import build_error

    path = tmp_path / "s.toml"
    path.write_text(TOWER)
    sc = nnstep.load_scenario(path)
    err = build_error(sc, "graph.nodes.f", "odd \x1b]52;c;cm0=\x07 " + "x" * 1000)
    assert "\x1b" not in str(err) and "\\x1b]52" in err.reason and "\\x07" in err.reason
    assert len(err.reason) == 300 and err.reason.endswith("…")
    assert err.line == line_of(TOWER, "f = ")
    # a scenario not read from a file has no line, but keeps the key
    assert build_error(parse_scenario(TOWER, "pasted"), "graph.nodes.f", "r").line is None


def test_float_constants_through_formulas_stay_floats(tmp_path):
    # 1e300 * 1e300 overflows to inf when computed, as floats do; it is not refused
    path = tmp_path / "f.toml"
    path.write_text('[graph]\nparameters = ["x"]\n[graph.nodes]\nq = "x - x + 1e300"\nf = "q * q * x"\n')
    program = build_program(nnstep.load_scenario(path))
    dbg = nnstep.Debugger(nnstep.load_scenario(path), program=program, epochs=1)
    dbg.run_until(program.loss_end)
    assert dbg.value("f") in (float("inf"), float("-inf"))
