"""The generated code (nnstep.codegen): the op kernels' arithmetic to the bit,
sharing repeated work, and never holding a name or text from a file."""

from __future__ import annotations

import ast
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnstep
from nnstep import codegen
from nnstep.debugger import Debugger
from nnstep.expr import Call, Name, Num, parse
from nnstep.scenario import bundled, parse_scenario
from nnstep.train import epoch_loss, train

from test_properties import networks


def kernel_step(program, params, i):
    v = program.new_slots()
    program.load(v, params, i)
    program.run(v)
    return program.params_of(v)


def assert_fused_equals_kernels(program, params, samples=40, epochs=2):
    fused = codegen.fused(program)
    p = list(params)
    n = len(program.scenario.samples)
    for i in list(range(n))[:samples]:
        got, p = fused.step(p, i), kernel_step(program, p, i)
        assert got == p or all(a == b or (a != a and b != b) for a, b in zip(got, p))
    assert _same(fused.loss(p), epoch_loss(program, p))
    if n <= samples:
        want_p, want_losses = list(params), []
        for _ in range(epochs):
            for i in range(n):
                want_p = kernel_step(program, want_p, i)
            want_losses.append(epoch_loss(program, want_p))
        got_p, got_losses = fused.train(list(params), epochs)
        assert all(map(_same, got_p, want_p)) and all(map(_same, got_losses, want_losses))


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("path", [p for p in bundled()], ids=lambda p: p.stem)
def test_fused_code_equals_the_op_kernels_on_every_bundled_scenario(path):
    sc = nnstep.load_scenario(path)
    dbg = Debugger(sc)
    assert codegen.fused(dbg.program) is not None  # formula graphs too: SymPy's partials become trees
    assert_fused_equals_kernels(dbg.program, dbg.initial)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_fused_code_equals_the_op_kernels_on_random_networks(text):
    sc = parse_scenario(text, "random.toml")
    dbg = Debugger(sc)
    assert_fused_equals_kernels(dbg.program, dbg.initial)


def test_train_takes_the_generated_code_and_lands_where_stepping_does():
    sc = nnstep.load_scenario()
    dbg = Debugger(sc, epochs=3)
    result = train(dbg.program, dbg.initial, 3)
    dbg.run_to_end()
    assert dbg.parameters() == result.parameters and dbg.epoch_losses() == result.losses
    seen = []
    again = train(dbg.program, dbg.initial, 3, on_epoch=lambda e, loss: seen.append((e, loss)))
    assert again.losses == result.losses and seen == list(enumerate(result.losses))


def test_names_from_the_file_never_reach_the_generated_code():
    # neurons and inputs named like the generator's own variables and helpers
    text = """
[network]
inputs = ["s0", "_data"]
layers = [{ neurons = ["t0", "f0"], activation = "tanh" },
          { neurons = ["v"], activation = { name = "k1", formula = "x / (1 + abs(x))" } }]
loss = "mse"
[parameters]
seed = 3
[training]
learning_rate = 0.3
epochs = 2
[[samples]]
name = "a"
x = [0.5, -1.25]
y = [0.25]
[[samples]]
name = "b"
x = [-2, 3]
y = [-0.5]
"""
    sc = parse_scenario(text, "names.toml")
    dbg = Debugger(sc)
    assert_fused_equals_kernels(dbg.program, dbg.initial)
    trees = []
    real_compile = compile

    def spy(source, filename, *args, **kwargs):
        if filename == codegen.FILENAME:
            trees.append(source)
        return real_compile(source, filename, *args, **kwargs)

    import builtins
    builtins.compile, saved = spy, builtins.compile
    try:
        fresh = nnstep.build_program(sc)
        p = list(dbg.initial)
        codegen.fused(fresh).train(p, 1)
        codegen.fused(fresh).step(p, 0)
        codegen.fused(fresh).loss(p)
        cond = parse("t0 > 0.5 or isnan(L)", fresh.slot, condition=True)
        codegen.fused(fresh).watcher([(cond, frozenset({"t0", "L"}))], True)(p, 1)
    finally:
        builtins.compile = saved
    # every kind of generated function: training, a step, the loss, a watched step
    assert len(trees) == 4 and all(isinstance(t, ast.Module) for t in trees)
    for tree in trees:
        codegen.check_generated(tree)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert names and all(codegen.GENERATED_NAME.match(n) for n in names)
        consts = {type(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert consts <= {float, int}


@pytest.mark.parametrize("tree", [
    ast.Module([ast.Expr(ast.Name("os", ast.Load()))], []),
    ast.Module([ast.Expr(ast.Attribute(ast.Name("s1", ast.Load()), "__class__", ast.Load()))], []),
    ast.Module([ast.Expr(ast.Constant("import os"))], []),
    ast.Module([ast.Import([ast.alias("os")])], []),
    ast.Module([ast.Expr(ast.Lambda(ast.arguments([], [], None, [], [], None, []), ast.Constant(1.0)))], []),
], ids=["foreign name", "attribute", "text", "import", "lambda"])
def test_the_generated_code_check_refuses_anything_else(tree):
    with pytest.raises(RuntimeError):
        codegen.check_generated(tree)


def test_a_repeated_subexpression_is_computed_once_per_sample():
    prog = nnstep.build_program(nnstep.load_scenario())
    # deriv_sigmoid(sum_o1, o1) appears in five partials of the note's network
    deriv = [t for t in prog.numeric if isinstance(t, Call) and t.func == "deriv_sigmoid"]
    assert deriv
    gen = codegen._Generator(prog.slot, prog.functions)
    block = gen.block(list(zip((o for o, _ in prog.kernels), prog.numeric)), list(prog.slot))
    calls = [n for s in block for n in ast.walk(s) if isinstance(n, ast.Call)]
    # three sigmoids and one derivative per neuron: nothing computed twice
    assert len(calls) == 3 + 3
    # and a value is not reused once what it read has changed
    slot = {"a": 0, "b": 1}
    twice = Call("exp", (Name("a"),))
    gen = codegen._Generator(slot, {})
    stmts = gen.block([(1, twice), (0, Num(2.0)), (1, twice)], ["a", "b"])
    assert sum(isinstance(n, ast.Call) for s in stmts for n in ast.walk(s)) == 2


def test_a_wide_layer_builds_without_deep_recursion_and_all_paths_agree():
    # 300 inputs: each sum is a 300-link chain, deeper than Python's compiler and
    # the recursion limit would allow written as one nested expression
    n_in = 300
    inputs = ", ".join(f'"i{j}"' for j in range(n_in))
    xs = [[round(0.01 * ((j * 7 + k) % 23 - 11), 2) for j in range(n_in)] for k in range(2)]
    text = (f'[network]\ninputs = [{inputs}]\n'
            'layers = [{ neurons = 3, activation = "tanh" }, { neurons = 1, activation = "sigmoid" }]\n'
            'loss = "mse"\n[parameters]\nseed = 5\n[training]\nlearning_rate = 0.2\nepochs = 2\n'
            + "".join(f'[[samples]]\nname = "s{k}"\nx = {x}\ny = [{k}]\n' for k, x in enumerate(xs)))
    sc = parse_scenario(text, "wide.toml")
    dbg = Debugger(sc)
    assert max(len(op.reads) for op in dbg.program.ops) > codegen.MAX_DEPTH
    assert_fused_equals_kernels(dbg.program, dbg.initial)
    import numpy as np

    from nnstep.vector import VectorNetwork

    with np.errstate(all="ignore"):
        assert VectorNetwork(dbg.program).step(np.array(dbg.initial), 0).tolist() == \
            codegen.fused(dbg.program).step(list(dbg.initial), 0)


# --- conditions and the non-finite check on whole samples -----------------------------

def _run_both(sc, setup, epochs=None):
    """Run to the end with the generated whole-sample check and op by op; both
    debuggers must stop at the same places in the same states."""
    fast, slow = Debugger(sc, epochs=epochs), Debugger(sc, epochs=epochs)
    for d in (fast, slow):
        setup(d)
    slow._watcher = lambda nonfinite: None
    calls = []
    real = fast._watcher

    def counting(nonfinite):
        w = real(nonfinite)
        return None if w is None else (lambda p, i: calls.append(i) or w(p, i))

    fast._watcher = counting
    stops = []
    for _ in range(6):
        a, b = fast.run_to_end(), slow.run_to_end()
        assert a == b and fast.state() == slow.state()
        stops.append(a)
        if a.reason == "end":
            break
    return stops, calls


@pytest.mark.parametrize("condition", [
    "L < 0.05", "isnan(L) or sum_h1 > 7", "not (y_pred > 0.1)", "w1 > 1", "d_ypred_d_h2 * 3 >= 0.2 or b3 > 1",
])
def test_a_condition_stops_where_op_by_op_stepping_stops(condition):
    stops, calls = _run_both(nnstep.load_scenario(), lambda d: d.add_condition(condition), epochs=300)
    assert calls  # whole samples went through the generated check
    assert all(s.reason == "condition" for s in stops)


def test_a_condition_that_never_holds_runs_every_sample_through_the_generated_check():
    stops, calls = _run_both(nnstep.load_scenario(), lambda d: d.add_condition("abs(d_L_d_w1) > 9 and h1 > 0.5"),
                             epochs=300)
    assert [s.reason for s in stops] == ["end"] and len(calls) == 300 * 4 - 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["L", "h1", "sum_o1", "d_L_d_w1", "w2", "b3", "d_h1_d_w1", "y_pred"]),
       st.sampled_from(["<", ">"]), st.floats(-2, 2).map(lambda x: round(x, 2)))
def test_random_conditions_stop_where_op_by_op_stepping_stops(name, op, threshold):
    _run_both(nnstep.load_scenario(), lambda d: d.add_condition(f"{name} {op} {threshold}"), epochs=40)


def test_the_nonfinite_check_stops_where_op_by_op_stepping_stops():
    sc = nnstep.load_scenario("diverging")

    def setup(d):
        d.stop_on_nonfinite = True

    stops, calls = _run_both(sc, setup)
    assert stops[0].reason == "nonfinite" and calls
