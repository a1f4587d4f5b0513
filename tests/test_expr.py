"""Tests for the safe formula parser, its numeric compiler and SymPy converter."""

from __future__ import annotations

import ast
import builtins
import io
import math
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstep import expr
from nnstep.errors import FormulaError, NNStepError
from nnstep.expr import (
    FUNCTIONS,
    Binary,
    BoolOp,
    Call,
    Compare,
    Name,
    Num,
    Unary,
    check_identifier,
    compile_numeric,
    names_in,
    parse,
    render,
)
from nnstep.symbolic.bridge import to_sympy

NAMES = ("x", "y", "z", "a", "b", "c")
SLOT = {name: i for i, name in enumerate(NAMES)}
INF, NAN = math.inf, math.nan


def value(text: str, *values: float, condition: bool = False) -> float:
    """Parse, compile and evaluate with x, y, z, a, b, c = values (missing: 0)."""
    padded = list(values) + [0.0] * (len(NAMES) - len(values))
    return compile_numeric(parse(text, NAMES, condition=condition), SLOT)(padded)


def same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-12)


# --- valid formulas against Python's own arithmetic -------------------------

POINTS = [(-2.5, 0.75, 3.0), (0.5, -1.25, 2.0), (3.0, 2.0, -0.5), (1e-3, 7.0, 1.5)]
FORMULAS = [
    ("x / (1 + abs(x))", lambda x, y, z: x / (1 + abs(x))),
    ("x*y + z", lambda x, y, z: x * y + z),
    ("x - y - z", lambda x, y, z: x - y - z),
    ("x / y / z", lambda x, y, z: x / y / z),
    ("-x**2", lambda x, y, z: -(x**2)),
    ("(-x)**2", lambda x, y, z: (-x) ** 2),
    ("2**-1 * x", lambda x, y, z: 2**-1 * x),
    ("2**3**2 + x", lambda x, y, z: 2**3**2 + x),
    ("abs(x)**0.5", lambda x, y, z: abs(x) ** 0.5),
    ("exp(x) - log(abs(y)) * tanh(z)",
     lambda x, y, z: math.exp(x) - math.log(abs(y)) * math.tanh(z)),
    ("sqrt(x*x + y*y)", lambda x, y, z: math.sqrt(x * x + y * y)),
    ("max(x, y, z) - min(x, y)", lambda x, y, z: max(x, y, z) - min(x, y)),
    ("relu(x) + relu(-x)", lambda x, y, z: max(x, 0.0) + max(-x, 0.0)),
    ("sigmoid(x)", lambda x, y, z: 1 / (1 + math.exp(-x))),
    ("- - x + +y", lambda x, y, z: x + y),
    ("3 * .5 + 5. - 1e-3 + 2E+4 * x", lambda x, y, z: 3 * 0.5 + 5.0 - 1e-3 + 2e4 * x),
    ("(x + y) * (x - y) / (1 + z*z)", lambda x, y, z: (x + y) * (x - y) / (1 + z * z)),
    (" \t x\n*\ty ", lambda x, y, z: x * y),
]


@pytest.mark.parametrize(("text", "python"), FORMULAS)
def test_formulas_match_python(text, python):
    for point in POINTS:
        assert same(value(text, *point), python(*point)), (text, point)


def test_precedence_trees():
    x, y, z = Name("x"), Name("y"), Name("z")
    assert parse("-x**2", NAMES) == Unary("-", Binary("**", x, Num(2.0)))
    assert parse("2**-1", NAMES) == Binary("**", Num(2.0), Unary("-", Num(1.0)))
    assert parse("x - y - z", NAMES) == Binary("-", Binary("-", x, y), z)
    assert parse("x / y / z", NAMES) == Binary("/", Binary("/", x, y), z)
    assert parse("2**3**2", NAMES) == Binary("**", Num(2.0), Binary("**", Num(3.0), Num(2.0)))
    assert parse("x + y * z", NAMES) == Binary("+", x, Binary("*", y, z))
    assert value("2**3**2") == 512.0
    assert value("-x**2", 3.0) == -9.0
    assert value("2**-1") == 0.5


def test_numbers():
    assert parse("3", NAMES) == Num(3.0)
    assert parse(".5", NAMES) == Num(0.5)
    assert parse("5.", NAMES) == Num(5.0)
    assert parse("1e-3", NAMES) == Num(0.001)
    assert parse("2E+4", NAMES) == Num(20000.0)
    assert parse("2.0", NAMES) == parse("2", NAMES)  # the spelling is kept but not compared
    assert parse("1e-3", NAMES).text == "1e-3"


# --- IEEE-style numeric semantics: never raise -----------------------------

def test_edge_values():
    assert value("relu(x)", 0.0) == 0.0
    assert value("relu(x)", -2.0) == 0.0
    assert value("relu(x)", 2.0) == 2.0
    assert value("sigmoid(x)", 1000.0) == 1.0
    assert value("sigmoid(x)", -1000.0) == 0.0
    assert value("sigmoid(x)", 0.0) == 0.5
    assert value("x / y", 1.0, 0.0) == INF
    assert value("x / y", -1.0, 0.0) == -INF
    assert value("x / y", 1.0, -0.0) == -INF
    assert math.isnan(value("x / y", 0.0, 0.0))
    assert math.isnan(value("x / y", NAN, 0.0))
    assert value("log(x)", 0.0) == -INF
    assert math.isnan(value("log(x)", -1.0))
    assert math.isnan(value("sqrt(x)", -1.0))
    assert value("exp(x)", 1000.0) == INF
    assert value("x**y", 10.0, 400.0) == INF
    assert value("x**y", -10.0, 401.0) == -INF
    assert value("x**y", 0.0, -1.0) == INF
    assert math.isnan(value("x**y", -8.0, 1 / 3))
    assert value("x**2", 1e200) == INF
    assert math.isnan(value("x - y", INF, INF))
    assert math.isnan(value("max(x, y)", NAN, 1.0))
    assert math.isnan(value("min(x, y)", 1.0, NAN))
    assert math.isnan(value("exp(x) * 0", 1000.0))


def test_conditions_evaluate_to_floats():
    assert value("x > 1", 2.0, condition=True) == 1.0
    assert value("x <= 1", 2.0, condition=True) == 0.0
    assert value("x == y and not y != 2", 2.0, 2.0, condition=True) == 1.0
    assert value("x < 0 or y >= 0", 1.0, 0.0, condition=True) == 1.0
    assert value("isnan(x) or isinf(y)", NAN, 0.0, condition=True) == 1.0
    assert value("isinf(y)", 0.0, -INF, condition=True) == 1.0
    assert value("isfinite(x)", INF, condition=True) == 0.0
    assert value("not x", 0.0, condition=True) == 1.0
    assert value("(x > 1) + (y > 1)", 2.0, 2.0, condition=True) == 2.0


def test_condition_trees():
    x, y = Name("x"), Name("y")
    got = parse("x > 1 and not y < 2 or isnan(x)", NAMES, condition=True)
    want = BoolOp("or", (
        BoolOp("and", (Compare(">", x, Num(1.0)), Unary("not", Compare("<", y, Num(2.0))))),
        Call("isnan", (x,)),
    ))
    assert got == want
    assert parse("x and y and x", NAMES, condition=True) == BoolOp("and", (x, y, x))


def test_condition_rejections():
    for text in ("x < y < z", "inf > x", "x > nan", "x < not y", "x = 1"):
        with pytest.raises(FormulaError):
            parse(text, NAMES, condition=True)
    assert parse("x > inf", [*NAMES, "inf"], condition=True) == Compare(">", Name("x"), Name("inf"))


# --- rejections --------------------------------------------------------------

INJECTIONS = [
    "__import__('os').system('echo hi')",
    "__import__",
    "().__class__",
    "x.__class__",
    "x . real",
    "lambda: 1",
    "lambda x: x",
    "[x for x in y]",
    "{1:2}",
    "'a'",
    '"a"',
    'exec("1")',
    "exec",
    "eval",
    "open('f')",
    "getattr(x, 'y')",
    "globals()",
    "9**9**9",
    "2**1000",
    "2**-1000",
    "((9**100)**100)**100",
    "(" * 1000 + "x" + ")" * 1000,
    "(" * 41 + "x" + ")" * 41,
    "x" * 5000,
    "-" * 5000 + "x",
    "-" * 41 + "x",
    "exp(" * 41 + "x" + ")" * 41,
    "+".join(["x"] * 150),
    "x if y else z",
    "x; y",
    "x = 1",
    "x @ y",
    "x ^ 2",
    "x % 2",
    "x // 2",
    "1e999",
    "1e300 * 1e300",
    "1 / 0",
    "0 / 0",
    "log(0)",
    "sqrt(-1)",
    "exp(1000)",
    "(-8)**(1/3)",
    "x * 0**-1",
    "0x10",
    "1_000",
    "1j",
    "1.2.3",
    "x[0]",
    "\\x41",
    "\u00e9",
    "x + \u00e9",
    "x\u00a0+ y",
    "max(x)",
    "max()",
    "max(" + ", ".join(["x"] * 17) + ")",
    "exp(x, y)",
    "exp()",
    "exp(x=1)",
    "max(x, key=y)",
    "(exp)(x)",
    "exp",
    "x(1)",
    "(x)(1)",
    "isnan(x)",
    "x > 1",
    "x == y",
    "x and y",
    "not x",
    "q",
    "True",
    "None",
    "x +",
    "(x",
    "x)",
    "",
    "   ",
    "2x",
    "x y",
    "max(x, y,)",
    "# comment",
    "`x`",
    "x\0",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injections_are_rejected(text):
    with pytest.raises(FormulaError):
        parse(text, NAMES)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('x')", "not allowed"),
        ("__import__", "'__import__' is not a plain name: no leading double underscore"),
        ("x.__class__", "attribute access"),
        ("x ^ 2", "use '**'"),
        ("q + x", "unknown name 'q' at column 1 (known: a, b, c, x, y, z)"),
        ("x[0]", "'[' at column 2"),
        ("9**9**9", "exponent"),
        ("2**1000", "within ±100"),
        ("1e999", "not finite"),
        ("x + 1/0", "constant part at column 6 evaluates to inf"),
        ("0x10", "malformed number '0x10'"),
        ("x" * 5000, "too long"),
        ("(" * 41 + "x" + ")" * 41, "nests too deeply"),
        ("max(x)", "'max' at column 1 takes at least 2 arguments, got 1"),
        ("exp(x, y)", "'exp' at column 1 takes exactly 1 argument, got 2"),
        ("isnan(x)", "only allowed in conditions"),
        ("x > 1", "'>' at column 3 is only allowed in conditions"),
        ("lambda", "'lambda' is not a plain name: it is a Python keyword"),
        ("lambda: 1", "':' at column 7 is not allowed"),
        ("", "empty"),
        ("x +", "ends too early"),
        ("(x", "never closed"),
    ],
)
def test_rejection_messages(text, fragment):
    with pytest.raises(FormulaError) as info:
        parse(text, NAMES)
    assert fragment in info.value.reason


def test_error_location_is_added_by_callers():
    with pytest.raises(FormulaError) as info:
        parse("q", ["x"])
    located = info.value.located(file="net.yaml", key="layers.0.formula")
    assert isinstance(located, NNStepError)
    assert str(located) == "net.yaml: layers.0.formula: unknown name 'q' at column 1 (known: x)"


def test_bounds_allow_reasonable_formulas():
    assert value("(" * 40 + "x" + ")" * 40, 2.0) == 2.0
    assert value("-" * 40 + "x", 2.0) == 2.0
    assert value("+".join(["x"] * 90), 1.0) == 90.0
    assert value("x**100", 1.0) == 1.0
    assert value("2**(50 + 50)") == 2.0**100
    assert value("(x**2)**3", 2.0) == 64.0
    assert value("10**100") == pytest.approx(1e100)
    assert parse("x**y", NAMES) == Binary("**", Name("x"), Name("y"))
    with pytest.raises(FormulaError):
        parse("2**(50 + 51)", NAMES)


def test_non_text_is_rejected():
    with pytest.raises(FormulaError):
        parse(42, NAMES)  # type: ignore[arg-type]


# --- helpers -----------------------------------------------------------------

def test_names_in():
    assert names_in(parse("x * exp(y) + 2", NAMES)) == {"x", "y"}
    assert names_in(parse("3", NAMES)) == set()
    assert names_in(parse("isnan(a) or b > c", NAMES, condition=True)) == {"a", "b", "c"}


def test_compile_needs_a_slot_for_every_name():
    with pytest.raises(FormulaError):
        compile_numeric(parse("x + y", NAMES), {"x": 0})
    assert compile_numeric(parse("y - x", NAMES), {"x": 1, "y": 0})([5.0, 2.0]) == 3.0


@pytest.mark.parametrize(
    ("text", "condition", "want"),
    [
        ("-x**2", False, "-x**2"),
        ("(-x)**2", False, "(-x)**2"),
        ("((x**2))**3", False, "(x**2)**3"),
        ("x - (y - z)", False, "x - (y - z)"),
        ("(x - y) - z", False, "x - y - z"),
        ("x*(y+z)", False, "x * (y + z)"),
        ("2**-1", False, "2**-1"),
        ("max(x,y , .5)", False, "max(x, y, .5)"),
        ("not(x>1 and y<2)", True, "not (x > 1 and y < 2)"),
        ("(x or y) and z", True, "(x or y) and z"),
        ("(x > 1) + 1", True, "(x > 1) + 1"),
    ],
)
def test_render(text, condition, want):
    node = parse(text, NAMES, condition=condition)
    assert render(node) == want
    assert parse(render(node), NAMES, condition=condition) == node


# --- no dynamic evaluation anywhere -------------------------------------------

def test_no_eval_exec_compile_or_sympify(monkeypatch):
    sympy = pytest.importorskip("sympy")
    from sympy.parsing import sympy_parser

    x, y = sympy.symbols("x y", real=True)
    funcs = {"exp": sympy.exp, "log": sympy.log, "tanh": sympy.tanh, "sqrt": sympy.sqrt,
             "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min,
             "relu": lambda s: sympy.Max(s, 0), "sigmoid": lambda s: 1 / (1 + sympy.exp(-s))}
    formulas = ("x * y + exp(x)", "sigmoid(x) * (1 - sigmoid(x))", "max(x, 0.5) ** 2",
                "log(1 + abs(y)) / sqrt(2)", "relu(x - y) - -tanh(y)")

    def run() -> None:
        for text in formulas:
            node = parse(text, ["x", "y"])
            assert math.isfinite(compile_numeric(node, {"x": 0, "y": 1})([0.3, -0.7]))
            assert to_sympy(node, {"x": x, "y": y}, funcs) is not None
            assert parse(render(node), ["x", "y"]) == node
        assert value("x > 0 and isfinite(y)", 1.0, 2.0, condition=True) == 1.0

    run()  # SymPy imports some modules lazily, and importing runs exec: warm up first
    calls = []

    def forbidden(*args, **kwargs):
        calls.append(args[:1])
        raise AssertionError("dynamic evaluation used")

    with monkeypatch.context() as patch:  # undone before pytest reports (it needs compile)
        for name in ("eval", "exec", "compile"):
            patch.setattr(builtins, name, forbidden)
        patch.setattr(ast, "parse", forbidden)
        patch.setattr(sympy, "sympify", forbidden)
        patch.setattr(sympy, "lambdify", forbidden)
        patch.setattr(sympy, "parse_expr", forbidden, raising=False)
        patch.setattr(sympy_parser, "parse_expr", forbidden)
        run()
    assert calls == []


def test_source_never_names_dynamic_evaluation():
    source = Path(expr.__file__).read_text(encoding="utf-8")
    banned = {"eval", "exec", "compile", "ast", "sympify", "parse_expr", "lambdify",
              "__import__", "getattr", "importlib"}
    tokens = [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
              if tok.type in (tokenize.NAME, tokenize.OP)]
    used = {name for i, name in enumerate(tokens) if name in banned
            and tokens[max(i - 2, 0):i] != ["re", "."]}  # re.compile is fine
    assert used == set()


# --- SymPy --------------------------------------------------------------------

def test_to_sympy_derivative():
    sympy = pytest.importorskip("sympy")
    x, y = sympy.symbols("x y")
    node = parse("x*y + exp(x)", ["x", "y"])
    converted = to_sympy(node, {"x": x, "y": y}, {"exp": sympy.exp})
    assert sympy.simplify(sympy.diff(converted, x) - (y + sympy.exp(x))) == 0
    assert sympy.diff(converted, x) == y + sympy.exp(x)


def test_to_sympy_numbers_and_errors():
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    assert to_sympy(parse("3", ["x"]), {}, {}) == sympy.Integer(3)
    assert isinstance(to_sympy(parse("3", ["x"]), {}, {}), sympy.Integer)
    assert isinstance(to_sympy(parse("2.5", ["x"]), {}, {}), sympy.Float)
    assert isinstance(to_sympy(parse("1e3", ["x"]), {}, {}), sympy.Float)
    assert to_sympy(parse("x / 2", ["x"]), {"x": x}, {}) == x / 2
    assert to_sympy(parse("-x**2", ["x"]), {"x": x}, {}) == -(x**2)
    with pytest.raises(FormulaError, match="conditions cannot become formulas"):
        to_sympy(parse("x > 1", ["x"], condition=True), {"x": x}, {})
    with pytest.raises(FormulaError):
        to_sympy(parse("exp(x)", ["x"]), {"x": x}, {})
    with pytest.raises(FormulaError):
        to_sympy(parse("x", ["x"]), {}, {})


def test_to_sympy_refuses_floats_beyond_float_range():
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x", real=True)
    # SymPy folds 1e4 + x - x to a Float itself; exp(exp(1e4)) would then run for minutes
    with pytest.raises(FormulaError, match="beyond the float range"):
        to_sympy(parse("exp(exp(10000.0 + x - x))", ["x"]), {"x": x}, {"exp": sympy.exp})
    assert to_sympy(parse("exp(1e300 * x)", ["x"]), {"x": x}, {"exp": sympy.exp}) is not None


# --- identifiers --------------------------------------------------------------

@pytest.mark.parametrize("name", ["w1", "sum_h1", "_x", "x", "A_b9", "a" * 64, "match"])
def test_check_identifier_accepts(name):
    assert check_identifier(name) == name


@pytest.mark.parametrize(
    "name", ["__x", "__class__", "class", "lambda", "None", "1a", "a-b", "a.b", "a b",
             "\u00e9", "x\u0661", "", 5, None, "a" * 65, "x\n"],
)
def test_check_identifier_rejects(name):
    with pytest.raises(FormulaError, match="not a plain name"):
        check_identifier(name)


def test_dunder_message():
    with pytest.raises(FormulaError) as info:
        check_identifier("__class__")
    assert info.value.reason == "'__class__' is not a plain name: no leading double underscore"


# --- fuzzing ------------------------------------------------------------------

ALPHABET = sorted(set("xy0123.+-*/()e ,<>=" + "".join(FUNCTIONS) + "andort"))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30), st.booleans())
def test_fuzz_parse_only_raises_formula_error(text, condition):
    try:
        node = parse(text, ["x", "y", "e"], condition=condition)
    except FormulaError:
        return
    assert parse(render(node), ["x", "y", "e"], condition=condition) == node
    fn = compile_numeric(node, {"x": 0, "y": 1, "e": 2})
    for values in ([0.0, 0.0, 0.0], [1.5, -2.0, math.e], [INF, NAN, -INF], [-1e308, 1e-308, 0.0]):
        assert isinstance(fn(values), float)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=25))
def test_fuzz_to_sympy_only_raises_formula_error(text):
    sympy = pytest.importorskip("sympy")
    try:
        node = parse(text, ["x", "y"])
    except FormulaError:
        return
    x, y = sympy.symbols("x y", real=True)
    funcs = {"exp": sympy.exp, "log": sympy.log, "tanh": sympy.tanh, "sqrt": sympy.sqrt,
             "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min,
             "relu": lambda s: sympy.Max(s, 0), "sigmoid": lambda s: 1 / (1 + sympy.exp(-s))}
    try:
        to_sympy(node, {"x": x, "y": y}, funcs)
    except FormulaError:
        pass


# --- exact numbers: refused before SymPy builds them ---------------------------------


def _sympy_refusal(text: str, names=("x",)) -> str:
    import sympy

    from nnstep.symbolic.derive import functions

    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    with pytest.raises(FormulaError) as info:
        to_sympy(parse(text, names), symbols, functions())
    return info.value.reason


def test_exact_powers_past_the_limit_are_refused_with_the_limit_named():
    # 10**5000 has 16,610 bits: SymPy would make it, and printing it fails (4,300 digits)
    reason = _sympy_refusal("x * (x - x + 10)**(x - x + 5000)")
    assert "10,000 bits" in reason and "(x - x + 10)**(x - x + 5000)" in reason
    # a tower: 10**(10**10) would keep SymPy busy in C, beyond Ctrl-C
    reason = _sympy_refusal("x * (x - x + 10)**((x - x + 10)**(x - x + 10))")
    assert "10^10 bits" in reason and "10,000 bits" in reason
    # products and roots of exact numbers are bounded too
    assert "10,000 bits" in _sympy_refusal("x * ((x - x + 10)**(x - x + 2000)) * ((x - x + 10)**(x - x + 2000))")
    assert "roots" in _sympy_refusal("sqrt((x - x + 10)**(x - x + 400) + 1) * x")


def test_exact_numbers_within_the_limit_are_kept_exact():
    import sympy

    from nnstep.expr import MAX_EXACT_BITS
    from nnstep.symbolic.bridge import exact_bits

    x = sympy.Symbol("x", real=True)
    value = to_sympy(parse("x * (x - x + 10)**(x - x + 2000)", ["x"]), {"x": x}, {})
    assert value == x * sympy.Integer(10) ** 2000
    assert 0 < exact_bits(value) <= MAX_EXACT_BITS
    assert exact_bits(x**1000) == (1000).bit_length()  # only the exponent: no big power of a symbol
    root = to_sympy(parse("sqrt(x - x + 2) * x", ["x"]), {"x": x}, {"sqrt": sympy.sqrt})
    assert root == sympy.sqrt(2) * x


def test_bounded_xreplace_refuses_what_plain_substitution_would_compute():
    import sympy

    from nnstep.symbolic.bridge import bounded_xreplace

    x, q = sympy.symbols("x q", real=True)
    f = x * q ** (q ** q)
    with pytest.raises(FormulaError, match="10,000 bits"):
        bounded_xreplace(f, {q: sympy.Integer(10)})
    with pytest.raises(FormulaError, match="roots"):
        bounded_xreplace(sympy.sqrt(q) * x, {q: sympy.Integer(10) ** 2000 + 1})
    small = {q: sympy.Integer(2)}
    assert bounded_xreplace(f, small) == f.xreplace(small) == 16 * x
    g = sympy.exp(q * x) + q**2 / (x + 1)
    assert bounded_xreplace(g, {q: x + 3}) == g.xreplace({q: x + 3})
    assert bounded_xreplace(g, {}) is g


def test_exact_size_rules():
    import sympy

    from nnstep.expr import MAX_EXACT_BITS
    from nnstep.symbolic.bridge import exact_size

    assert exact_size("mul", [3000, 4000]) == 7000
    assert exact_size("add", [3000, 4000]) == 4002
    assert exact_size("pow", [4, 0], sympy.Integer(-100)) == 400
    assert exact_size("pow", [0, 40], sympy.Integer(10**12)) == 40  # x**(10**12): no big number
    assert exact_size("call", [5, 7]) == 7
    with pytest.raises(FormulaError, match=f"{MAX_EXACT_BITS:,} bits"):
        exact_size("pow", [4, 34], sympy.Integer(10**10), "q**q**q")
    with pytest.raises(FormulaError, match="q\\*\\*q"):
        exact_size("mul", [MAX_EXACT_BITS, 1], None, lambda: "q**q")


def _exact_formulas():
    constant = st.builds(lambda k: f"(x - x + {k})", st.sampled_from([0, 1, 2, 3, 10, 99, 1000, 123456789]))
    leaf = st.one_of(constant, st.just("x"), st.just("(x - x + 0.5)"))

    def grow(inner):
        return st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["+", "-", "*", "/", "**"]),
                         inner) | st.builds(lambda a: f"sqrt({a})", inner)

    return st.recursive(leaf, grow, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(_exact_formulas())
def test_exact_numbers_sympy_builds_stay_within_the_bound(text):
    import sympy

    from nnstep.expr import MAX_EXACT_BITS
    from nnstep.symbolic.derive import functions

    x = sympy.Symbol("x", real=True)
    try:
        node = parse(text, ["x"])
        value = to_sympy(node, {"x": x}, functions())
    except FormulaError:
        return
    for number in sympy.preorder_traversal(value):
        if isinstance(number, sympy.Rational):
            assert abs(number.p).bit_length() + number.q.bit_length() <= MAX_EXACT_BITS + 2, text
