"""Formula graphs and custom activations: the program built from named formulas,
its numbers against SymPy and 50-digit finite differences, stepping, the CLI,
and hostile formulas rejected with one clear line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_scenarios import check_gradients, check_values_against_sympy, gradient_op

import nnstep
from nnstep.build import build_program
from nnstep.debugger import Debugger
from nnstep.errors import ScenarioError
from nnstep.scenario import parse_scenario
from nnstep.train import train

from guards import forbid_dynamic_evaluation

ROOT = Path(__file__).resolve().parents[1]


def symbolic_abs_is_real() -> bool:
    """Whether nnstep.symbolic differentiates abs(u) of a user formula to sign(u); SymPy's
    own Abs of a plain (not real) symbol gives re/im/Derivative terms instead."""
    from nnstep.symbolic import Symbolic

    program = build_program(load(CIRCUIT.replace('f = "q * z"', 'f = "abs(q) * z"')))
    return "sign" in Symbolic(program).formula(program.by_name["d_f_d_q"]).text


needs_real_abs = pytest.mark.skipif("not symbolic_abs_is_real()",
                                    reason="nnstep.symbolic's abs has no real derivative yet")

CIRCUIT = """\
[graph]
inputs = ["x", "y"]
parameters = ["z"]

[graph.nodes]
q = "x + y"
f = "q * z"

[parameters]
z = -4

[[samples]]
x = -2
y = 5
"""


def load(text: str, label: str = "g.toml"):
    return parse_scenario(text, label)


def graph(nodes: str, *, inputs: str = '["x"]', params: str = '["w"]', values: str = "w = 0.7",
          samples: str = "[[samples]]\nx = 1.3\n", extra: str = "") -> str:
    """A graph scenario; ``nodes`` are lines ``name = formula`` (quoted here)."""
    lines = []
    for line in nodes.splitlines():
        name, formula = line.split(" = ", 1)
        lines.append(f"{name} = {json.dumps(formula)}")
    nodes = "\n".join(lines)
    return (f"[graph]\ninputs = {inputs}\nparameters = {params}\n{extra}\n[graph.nodes]\n{nodes}\n\n"
            f"[parameters]\n{values}\n\n[training]\nlearning_rate = 0.1\nepochs = 3\n\n{samples}")


def reject(text: str, label: str = "bad.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(text, label)
    err = info.value
    lines = str(err).splitlines()  # one line per problem found
    assert len(lines) == len(err.errors) and all(line.startswith(label) for line in lines)
    return err


# --------------------------------------------------------------------------- the program


def test_circuit_program_has_the_textbook_ops_in_order():
    program = build_program(load(CIRCUIT))
    rows = [(op.phase, op.kind, op.code) for op in program.ops]
    assert rows == [
        ("forward", "node", "q = x + y"),
        ("loss", "loss", "f = q * z"),
        ("backward", "partial", "d_f_d_q = z"),
        ("backward", "partial", "d_f_d_z = q"),
        ("update", "update", "z -= learn_rate * d_f_d_z"),
    ]  # x and y are data: no gradient is taken through them
    assert program.loss == "f" and program.loss_end == 2
    assert program.inputs == ("x", "y") and program.targets == () and program.parameters == ("z",)
    dbg = Debugger(load(CIRCUIT))
    dbg.finish_sample()
    assert dbg.value("f") == -12.0 and dbg.value("d_f_d_z") == 3.0
    assert dbg.value("z") == -4.0 - 0.1 * 3.0


def test_totals_sum_over_every_path_and_inline_short_chains():
    text = graph('a = w * x\nb = a + w\nf = a * b + 0.5 * w**2')
    program = build_program(load(text))
    codes = {op.name: op.code for op in program.ops}
    assert codes["d_f_d_w_local"] == "d_f_d_w_local = 1.0*w"
    assert codes["d_b_d_w"] == "d_b_d_w = 1"
    assert codes["d_f_d_b"] == "d_f_d_b = a"
    assert codes["d_f_d_a_local"] == "d_f_d_a_local = b"
    # a is used by f directly and through b, so its total is a sum of two paths
    assert codes["d_f_d_a"] == "d_f_d_a = d_f_d_b * d_b_d_a + d_f_d_a_local"
    assert codes["d_f_d_w"] == "d_f_d_w = d_f_d_a * d_a_d_w + d_f_d_b * d_b_d_w + d_f_d_w_local"
    assert gradient_op(program, "w") == "d_f_d_w"
    order = [op.name for op in program.ops]
    assert order.index("d_f_d_a") < order.index("d_f_d_w") < order.index("w")
    dbg = Debugger(load(text))
    check_values_against_sympy(dbg, dbg.op_count)
    dbg.restart()
    check_gradients(dbg)


def test_a_long_chain_refers_to_the_total_instead_of_inlining():
    text = graph('a = w * x\nb = exp(a)\nc = tanh(b)\nd = c * c\nf = d - w')
    program = build_program(load(text))
    code = program.by_name["d_f_d_a"].code
    assert code == "d_f_d_a = d_f_d_d * d_d_d_c * d_c_d_b * d_b_d_a"
    assert program.by_name["d_f_d_w"].code == "d_f_d_w = d_f_d_a * d_a_d_w + d_f_d_w_local"
    dbg = Debugger(load(text))
    check_values_against_sympy(dbg, dbg.op_count)
    dbg.restart()
    check_gradients(dbg)


FORMULAS = [
    "exp(-w * x) + log(1 + w**2)",
    "tanh(w * x) * sigmoid(w - x)",
    "relu(w * x - 0.2) + relu(-w)",
    "sqrt(1 + (w * x)**2) / abs(w - 2)",
    "max(w * x, 0.1, w) - min(w, x / 3)",
    "(w + x)**3 - w**-2 + 2**w",
    "x / (1 + abs(w * x)) - -w",
    "log(sigmoid(w * x)) + 1 / tanh(w + x)",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_every_function_agrees_with_sympy_and_finite_differences(formula):
    text = graph(f'g = {formula}\nf = (g - x)**2 + g * v',
                 params='["w", "v"]', values="w = 0.7\nv = -0.4",
                 samples="[[samples]]\nx = 1.3\n\n[[samples]]\nx = -0.45\n")
    dbg = Debugger(load(text))
    if "abs" not in formula or symbolic_abs_is_real():
        check_values_against_sympy(dbg, 2 * dbg.op_count)
    for sample in range(2):
        dbg.goto(sample * dbg.op_count)
        check_gradients(dbg)


def test_layout_puts_each_formula_right_of_what_it_uses():
    from nnstep.graph import layout

    assert layout(load(CIRCUIT).graph) == (("x", "y", "z"), ("q",), ("f",))
    sc = nnstep.load_scenario("sigmoid-neuron")
    assert layout(sc.graph) == (("x0", "x1", "y", "w0", "w1", "w2"), ("f",), ("L",))
    deep = load(graph('a = w * x\nb = exp(a)\nf = b + a + w'))
    assert layout(deep.graph) == (("x", "w"), ("a",), ("b",), ("f",))


def test_graph_without_inputs_needs_no_samples():
    text = '[graph]\nparameters = ["w"]\n[graph.nodes]\nL = "(w - 3)**2"\n[parameters]\nw = 0\n'
    sc = load(text)
    assert len(sc.samples) == 1 and sc.samples[0].x == ()
    result = train(build_program(sc), [0.0], 150)
    assert result.parameters["w"] == pytest.approx(3.0, abs=1e-12)


def test_graph_parameters_are_drawn_from_the_seed_when_not_given():
    text = graph('f = (w * x - v)**2', params='["w", "v"]', values="seed = 5\nv = 1.5")
    sc = load(text)
    import numpy as np

    drawn = np.random.RandomState(5).normal(size=2)
    assert sc.initial_parameters() == {"w": float(drawn[0]), "v": 1.5}


# --------------------------------------------------------------------------- stepping, symbolic, CLI


def test_graph_steps_forward_back_and_updates_like_a_network():
    dbg = Debugger("sigmoid-neuron")
    states = [dbg.state()]
    for _ in range(3 * dbg.op_count + 5):
        dbg.step()
        states.append(dbg.state())
    for want in reversed(states[:-1]):
        dbg.back()
        assert dbg.state() == want  # bit for bit
    dbg.add_condition("L < 0.05")
    stop = dbg.run_to_end()
    assert stop.reason == "condition" and dbg.value("L") < 0.05
    dbg.restart()
    dbg.clear_breakpoints()
    dbg.toggle_breakpoint("d_L_d_w1")
    assert dbg.run_to_end().reason == "breakpoint" and dbg.current_op.name == "d_L_d_w1"


def test_stepping_and_headless_training_are_the_same_arithmetic():
    sc = nnstep.load_scenario("sigmoid-neuron")
    dbg = Debugger(sc, epochs=3)
    dbg.run_to_end(breakpoints=False)
    result = train(dbg.program, dbg.initial, 3)
    assert dbg.parameters() == result.parameters
    assert dbg.epoch_losses() == result.losses


def test_symbolic_formulas_for_every_graph_op():
    from nnstep.symbolic import Symbolic

    for stem in ("circuit", "sigmoid-neuron"):
        program = build_program(nnstep.load_scenario(stem))
        sy = Symbolic(program)
        for op in program.ops:
            f = sy.formula(op)
            assert f.text and f.latex, op.name
    program = build_program(nnstep.load_scenario("sigmoid-neuron"))
    sy = Symbolic(program)
    assert sy.formula(program.by_name["d_L_d_w0"]).text == "∂L/∂w0 = ∂L/∂f·∂f/∂w0"
    assert sy.formula(program.by_name["d_f_d_w2"]).text.startswith("∂f/∂w2 = ∂/∂w2 (1/(1 + exp(")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnstep", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"}, timeout=120)


def test_cli_traces_trains_and_checks_a_graph(tmp_path):
    out = run_cli("trace", "circuit", "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["name"] for r in rows][:4] == ["q", "f", "d_f_d_q", "d_f_d_z"]
    assert rows[1]["value"] == -12.0 and rows[1]["phase"] == "loss"
    trained = run_cli("train", "circuit", "--epochs", "2", "--format", "json")
    assert trained.returncode == 0, trained.stderr
    data = json.loads(trained.stdout)
    assert len(data["losses"]) == 2 and set(data["parameters"]) == {"x", "y", "z"}
    bad = tmp_path / "bad.toml"
    bad.write_text(graph('f = w * __import__("os")'), encoding="utf-8")
    checked = run_cli("check", str(ROOT / "scenarios" / "circuit.toml"), str(bad))
    assert checked.returncode == 2
    assert checked.stderr.count("\n") == 1 and "graph.nodes.f" in checked.stderr
    assert "Traceback" not in checked.stderr


# --------------------------------------------------------------------------- custom activations

CUSTOM = """\
[network]
inputs = ["x1", "x2"]
layers = [
  { neurons = ["h1", "h2"], activation = { name = "softsign", formula = "x / (1 + abs(x))" } },
  { neurons = ["h3", "h4"], activation = "softsign" },
  { neurons = ["o1"], activation = { name = "swish", formula = "x * sigmoid(x)" } },
]
loss = "mse"

[parameters]
seed = 3

[[samples]]
x = [0.5, -1.5]
y = [1]

[[samples]]
x = [-2, 0.25]
y = [0]
"""


def test_custom_activation_program_and_numbers():
    sc = load(CUSTOM)
    assert [layer.activation for layer in sc.layers] == ["softsign", "softsign", "swish"]
    assert sc.layers[1].custom == sc.layers[0].custom
    program = build_program(sc)
    codes = {op.name: op.code for op in program.ops}
    assert codes["h1"] == "h1 = softsign(sum_h1)"
    assert codes["o1"] == "o1 = swish(sum_o1)"
    assert codes["d_h1_d_w1"] == "d_h1_d_w1 = x1 * deriv_softsign(sum_h1)"
    assert codes["d_ypred_d_h3"] == "d_ypred_d_h3 = w9 * deriv_swish(sum_o1)"
    dbg = Debugger(sc)
    for sample in range(2):
        dbg.goto(sample * dbg.op_count)
        check_gradients(dbg)


@needs_real_abs
def test_custom_activation_values_agree_with_sympy():
    dbg = Debugger(load(CUSTOM))
    check_values_against_sympy(dbg, 2 * dbg.op_count)


@needs_real_abs
def test_custom_activation_formula_is_shown_derived_by_sympy():
    from nnstep.symbolic import Symbolic

    program = build_program(load(CUSTOM))
    sy = Symbolic(program)
    assert sy.formula(program.by_name["h1"]).text == "h1 = sum_h1/(1 + |sum_h1|)"
    derived = sy.formula(program.by_name["d_h1_d_b1"]).formula
    assert {s.name for s in derived.free_symbols} == {"sum_h1"}  # folded back into the node's sum


def test_custom_activation_derivative_is_exact_where_the_textbook_form_cancels():
    from nnstep.expr import parse
    from nnstep.layered import derived_activation
    from nnstep.scenario import CustomActivation

    act = derived_activation(CustomActivation("sig", "sigmoid(x)", parse("sigmoid(x)", ["x"])))
    assert act.deriv(40.0, act.fn(40.0)) == pytest.approx(math.exp(-40), rel=1e-12)  # not 0
    th = derived_activation(CustomActivation("th", "tanh(x)", parse("tanh(x)", ["x"])))
    assert th.deriv(20.0, th.fn(20.0)) == pytest.approx(4 * math.exp(-40), rel=1e-12)


def test_sympy_compiler_edge_values():
    import sympy as sp

    from nnstep.symbolic.bridge import symbol
    from nnstep.symbolic.derive import compile_sympy

    x = symbol("x")
    slot = {"x": 0}
    assert compile_sympy(sp.Heaviside(x), slot)([0.0]) == 0.5
    assert compile_sympy(sp.Heaviside(x, 0), slot)([0.0]) == 0.0
    assert compile_sympy(sp.sign(x), slot)([-3.0]) == -1.0
    assert math.isnan(compile_sympy(sp.Max(x, 1), slot)([math.nan]))
    assert math.isnan(compile_sympy(sp.zoo * x, slot)([1.0]))
    assert compile_sympy(1 / x, slot)([0.0]) == math.inf
    assert compile_sympy(sp.log(x), slot)([0.0]) == -math.inf
    assert compile_sympy(sp.exp(x), slot)([1000.0]) == math.inf
    assert math.isnan(compile_sympy(sp.sqrt(x), slot)([-1.0]))
    assert compile_sympy(sp.Rational(1, 3) * x, slot)([3.0]) == 1.0


# --------------------------------------------------------------------------- hostile and broken files

MALICIOUS = [
    ('__import__(w)', "'__import__' is not a plain name"),
    ('w + exp("rm -rf /")', "strings are not allowed"),
    ("w.__class__", "'.'"),
    ("w * x[0]", "'['"),
    ("lambda: w", "lambda"),
    ("eval(w)", "'eval'"),
    ("open(w)", "'open'"),
    ("w ** 1000", "exponent 1000"),
    ("(" * 60 + "w" + ")" * 60, "nests too deeply"),
    ("w + " * 600 + "w", "too long"),
    ("w; import os", "';'"),
    ("w if x else 0", "unexpected 'if'"),
    ("wé + 1", "non-ASCII"),
    ("exp", "must be called"),
    ("max(" + ", ".join(["w"] * 20) + ")", "max/min"),
]


@pytest.mark.parametrize(("formula", "piece"), MALICIOUS)
def test_malicious_formulas_get_one_clear_line(formula, piece):
    err = reject(graph(f"f = {formula}"))
    assert err.key == "graph.nodes.f"
    assert err.line == 6
    assert piece in err.reason


@pytest.mark.parametrize(("formula", "piece"), MALICIOUS[:6])
def test_malicious_custom_activations_get_one_clear_line(formula, piece):
    text = CUSTOM.replace('"x / (1 + abs(x))"', json.dumps(formula.replace("w", "x")))
    err = reject(text)
    assert err.key == "network.layers #1: activation.formula"
    assert err.line == 4
    assert piece in err.reason


@pytest.mark.parametrize(("where", "name", "piece"), [
    ("inputs", "__class__", "double underscore"),
    ("inputs", "os.system", "only letters"),
    ("parameters", "import", "keyword"),
    ("parameters", "9lives", "starts with a digit"),
    ("parameters", "d_x", "nnstep uses itself"),
    ("parameters", "learn_rate", "nnstep uses itself"),
    ("inputs", "exp", "function name"),
])
def test_bad_names_are_rejected(where, name, piece):
    inputs = f'["{name}", "x"]' if where == "inputs" else '["x"]'
    params = f'["w", "{name}"]' if where == "parameters" else '["w"]'
    err = reject(graph('f = w * x', inputs=inputs, params=params))
    assert err.key.startswith(f"graph.{where}") and piece in err.reason


def test_node_names_are_checked_too():
    err = reject('[graph]\nparameters = ["w"]\n[graph.nodes]\n"__init__" = "w"\n')
    assert err.key == "graph.nodes.__init__" and "double underscore" in err.reason and err.line == 4
    err = reject('[graph]\nparameters = ["w"]\n[graph.nodes]\n"a b" = "w"\n')
    assert err.key == "graph.nodes" and "only letters" in err.reason


@pytest.mark.parametrize(("text", "key", "piece"), [
    (graph('f = w * y'), "graph.nodes.f", "unknown name 'y'"),
    (graph('f = w * q\nq = x'), "graph.nodes.f", "'q', which is defined below it"),
    (graph('f = w * f'), "graph.nodes.f", "uses itself"),
    (graph('a = w * x\nf = w * x'), "graph.nodes.a", "not used on the way"),
    (graph('f = w * x\na = f * 2', extra='output = "f"'), "graph.nodes.a", "'a' comes after the output"),
    (graph('f = w * x', params='["w", "v"]'), "graph.parameters", "'v' is not used"),
    (graph('f = w * 2'), "graph.inputs", "'x' is not used"),
    (graph('f = w * x', params="[]"), "graph.parameters", "at least one trainable parameter"),
    (graph('f = w * x', inputs='["x", "w"]'), "graph.parameters", "duplicate name 'w'"),
    (graph('w = x * 2\nf = w'), "graph.nodes.w", "duplicate name 'w'"),
    (graph('f = w * x', extra='output = "g"'), "graph.output", "'g' is not one of the formulas"),
    ('[graph]\nparameters = ["w"]\nnodes = 3\n', "graph.nodes", "must be a table"),
    ('[graph]\nparameters = ["w"]\nnodes = {}\n', "graph.nodes", "at least one formula"),
    ('[graph]\nnodes = { f = "1" }\n', "graph", "missing key 'parameters'"),
    ('[graph]\nparameters = ["w"]\nnodes = { f = "w" }\nouts = "f"\n', "graph.outs", "did you mean 'output'"),
    (graph('f = 3'), "graph.parameters", "'w' is not used"),
    (graph('f = w * x', samples="[[samples]]\ny = 2\n"), "samples #1: y", "unknown key"),
    (graph('f = w * x', samples="[[samples]]\nname = 'a'\n"), "samples #1 (a)", "missing a value for input 'x'"),
    (graph('f = w * x', samples="[[samples]]\nx = 'a'\n"), "samples #1: x", "must be a number"),
    (graph('f = w * x', samples=""), "samples", "missing [[samples]]"),
    (graph('f = w * x', values="v = 1"), "parameters.v", "no parameter 'v'"),
    (graph('f = w * x') + '\n[network]\ninputs = ["a"]\n', "graph", "not both"),
    (graph('a_d_b = w * x\nc = a_d_b * 2\nf = c * a_d_b'), None, None),  # '_d_' alone is fine
])
def test_broken_graphs_get_one_clear_line(text, key, piece):
    if key is None:
        load(text)  # fine
        return
    err = reject(text)
    assert err.key == key, str(err)
    if piece:
        assert piece in err.reason, str(err)
    assert err.line is None or err.line >= 1


def test_generated_names_that_collide_are_rejected():
    # the partials d_<a>_d_<b_d_c> and d_<a_d_b>_d_<c> would both be d_a_d_b_d_c
    text = graph('b_d_c = w * 2\na = b_d_c * 3\nc = w + 1\na_d_b = c * x\nf = a * a_d_b')
    err = reject(text)
    assert err.key == "graph.nodes" and "'d_a_d_b_d_c'" in err.reason


@pytest.mark.parametrize(("activation", "key", "piece"), [
    ('{ formula = "x * y" }', "network.layers #1: activation.formula", "unknown name 'y'"),
    ('{ formula = "2" }', "network.layers #1: activation.formula", "does not use x"),
    ('{ name = "sigmoid", formula = "x" }', "network.layers #1: activation.name", "built-in name"),
    ('{ name = "exp", formula = "x" }', "network.layers #1: activation.name", "built-in name"),
    ('{ name = "__x", formula = "x" }', "network.layers #1: activation.name", "double underscore"),
    ('{ name = "soft" }', "network.layers #1: activation", "missing key 'formula'"),
    ('{ name = "soft", formule = "x" }', "network.layers #1: activation.formule", "did you mean 'formula'"),
    ('{ formula = 3 }', "network.layers #1: activation.formula", "must be a formula in quotes"),
    ('3', "network.layers #1: activation", "must be a name"),
])
def test_broken_custom_activations(activation, key, piece):
    text = CUSTOM.replace('{ name = "softsign", formula = "x / (1 + abs(x))" }', activation)
    err = reject(text)
    assert err.key == key, str(err)
    assert piece in err.reason, str(err)
    assert err.line == 4


def test_custom_activation_names_must_agree():
    text = CUSTOM.replace('activation = "softsign" }', 'activation = { name = "softsign", formula = "x" } }')
    err = reject(text)
    assert err.key == "network.layers #2: activation.name" and "different formula" in err.reason


def test_custom_output_cannot_take_binary_cross_entropy():
    text = CUSTOM.replace('loss = "mse"', 'loss = "binary_cross_entropy"')
    err = reject(text)
    assert err.key == "network.loss" and "sigmoid" in err.reason


def test_nothing_is_evaluated_while_a_graph_is_loaded_built_derived_and_stepped(monkeypatch):
    from nnstep.symbolic import Symbolic

    def everything() -> None:
        for text in (nnstep.scenario.resolve("sigmoid-neuron").read_text(encoding="utf-8"), CUSTOM):
            sc = load(text)
            dbg = Debugger(sc)
            sy = Symbolic(dbg.program)
            for op in dbg.program.ops:
                dbg.step()
                sy.formula(op)

    everything()  # warm up: importing runs exec
    with monkeypatch.context() as patch:
        calls = forbid_dynamic_evaluation(patch)
        everything()
    assert calls == []


def test_graph_module_source_names_no_dynamic_evaluation():
    import io
    import tokenize

    import nnstep.graph

    source = Path(nnstep.graph.__file__).read_text(encoding="utf-8")
    banned = {"eval", "exec", "compile", "sympify", "parse_expr", "lambdify", "__import__", "getattr"}
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.NAME]
    used = {name for before, name in zip(["", *tokens], tokens) if name in banned and before != "def"}
    assert used == set()  # (SymPy's Function.eval is a method nnstep defines, not the builtin)


def test_loading_a_graph_does_not_import_sympy():
    code = ("import sys\nfrom nnstep.scenario import load_scenario\n"
            "load_scenario('sigmoid-neuron'); load_scenario('circuit')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sympy')[:1])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
