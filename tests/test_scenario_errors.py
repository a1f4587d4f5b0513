"""Bad scenario files: one clear line naming file, line, key and reason; exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnstep
from nnstep.scenario import parse_scenario
from nnstep.text import is_visible, visible

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "scenarios" / "note-network.toml").read_text()


def variant(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


CASES = [
    # (name, text, key, words in the reason, line or None)
    ("syntax", variant("loss = \"mse\"", "loss = \"mse"), None, ["TOML syntax error", "column"], 12),
    ("unknown-top", "nmae = 'x'\n" + GOOD, "nmae", ["did you mean 'name'"], 1),
    ("unknown-layer-key", variant('activation = "sigmoid" },\n  { neurons = ["o1"]',
                                  'activaton = "sigmoid" },\n  { neurons = ["o1"]'),
     "network.layers #1: activaton", ["did you mean 'activation'"], 9),
    ("type", variant("epochs = 1000", "epochs = \"many\""), "training.epochs", ["whole number"], 21),
    ("activation", variant('{ neurons = ["o1"], activation = "sigmoid" }', '{ neurons = ["o1"], activation = "sigmoud" }'),
     "network.layers #2: activation", ["unknown activation", "did you mean 'sigmoid'"], 10),
    ("loss", variant('loss = "mse"', 'loss = "mae"'), "network.loss", ["unknown loss", "mse"], 12),
    ("x-length", variant("x = [25, 6]", "x = [25, 6, 1]"), "samples #2 (Bob): x", ["3 values", "2 inputs"], 30),
    ("y-length", variant("y = [0]\n\n[[samples]]\nname = \"Charlie\"", "y = [0, 1]\n\n[[samples]]\nname = \"Charlie\""),
     "samples #2 (Bob): y", ["2 values", "1 outputs"], 31),
    ("softmax-hidden", variant('{ neurons = ["h1", "h2"], activation = "sigmoid" }', '{ neurons = ["h1", "h2"], activation = "softmax" }'),
     "network.layers #1: activation", ["output layer only"], 9),
    ("param", variant("seed = 0", "seed = 0\nw7 = 1.0"), "parameters.w7", ["no parameter 'w7'"], 18),
    ("duplicate", variant('["h1", "h2"]', '["h1", "h1"]'), "network.layers #1: neurons", ["duplicate name 'h1'"], 9),
    ("clash", variant('["h1", "h2"]', '["h1", "x1"]'), "network.layers #1: neurons", ["duplicate name 'x1'"], 9),
    ("identifier", variant('["h1", "h2"]', '["h1", "h-2"]'), "network.layers #1: neurons #2", ["plain"], 9),
    ("dunder", variant('["h1", "h2"]', '["h1", "__class__"]'), "network.layers #1: neurons #2", ["double underscore"], 9),
    ("keyword", variant('["h1", "h2"]', '["h1", "lambda"]'), "network.layers #1: neurons #2", ["keyword"], 9),
    ("reserved", variant('["h1", "h2"]', '["h1", "L"]'), "network.layers #1: neurons", ["nnstep uses itself"], 9),
    ("nan", variant("x = [-2, -1]", "x = [nan, -1]"), "samples #1 (Alice): x #1", ["finite"], 25),
    ("inf-param", variant("seed = 0", "seed = 0\nw1 = inf"), "parameters.w1", ["finite"], 18),
    ("no-samples", "samples = []\n" + GOOD.split("[[samples]]")[0], "samples", ["at least one sample"], 1),
    ("lr", variant("learning_rate = 0.1", "learning_rate = 0"), "training.learning_rate", ["positive"], 20),
    ("lr-negative", variant("learning_rate = 0.1", "learning_rate = -1"), "training.learning_rate", ["positive"], 20),
    ("missing-network", "[[samples]]\nx = [1]\ny = [1]\n", "network", ["missing [network]"], None),
    ("bce-needs-sigmoid", variant('loss = "mse"', 'loss = "binary_cross_entropy"').replace(
        '{ neurons = ["o1"], activation = "sigmoid" }', '{ neurons = ["o1"], activation = "tanh" }'),
     "network.loss", ["one sigmoid output"], 12),
]


@pytest.mark.parametrize("name,text,key,words,line", CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_gives_one_located_error(name, text, key, words, line):
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    err = info.value
    assert err.file == "bad.toml"
    assert err.key == key
    for w in words:
        assert w in err.reason
    if line is not None:
        assert err.line == line, str(err)
    assert "\n" not in str(err) and str(err).startswith("bad.toml")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(nnstep.ScenarioError, match="no such file"):
        nnstep.load_scenario(tmp_path / "none.toml")
    with pytest.raises(nnstep.ScenarioError, match="directory"):
        nnstep.load_scenario(tmp_path)


def test_binary_file(tmp_path):
    f = tmp_path / "bin.toml"
    f.write_bytes(b"name = 'x'\n\xff\xfe\x00garbage")
    with pytest.raises(nnstep.ScenarioError, match="UTF-8") as info:
        nnstep.load_scenario(f)
    assert info.value.line == 2


def test_unknown_bundled_name_suggests():
    with pytest.raises(nnstep.ScenarioError, match="did you mean 'note-network'"):
        nnstep.load_scenario("note-netwrk")


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("syntax", "activation", "x-length", "param", "nan")],
                         ids=lambda c: c[0])
def test_cli_check_and_trace_print_one_line_and_exit_2(tmp_path, case):
    name, text, key, words, line = case
    f = tmp_path / f"{name}.toml"
    f.write_text(text)
    for cmd in (["check", str(f)], ["trace", str(f)], ["train", str(f)]):
        res = subprocess.run([sys.executable, "-m", "nnstep", *cmd], capture_output=True, text=True, cwd=ROOT)
        assert res.returncode == 2, (cmd, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert lines[0].startswith(f"{f}:{line}: " if line else f"{f}: ")
        assert "Traceback" not in res.stderr


def test_check_good_files():
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", str(ROOT / "scenarios" / "note-network.toml")],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok")


# --------------------------------------------------------------------------- every problem, one line each

THREE_PROBLEMS = (variant('{ neurons = ["o1"], activation = "sigmoid" }', '{ neurons = ["o1"], activation = "sigmoud" }')
                  .replace("x = [25, 6]", "x = [25, nan]")
                  .replace("seed = 0", "seed = 0\nw10 = 1.5"))


def _line_of(text: str, piece: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if piece in ln)


def test_every_independent_problem_is_reported():
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(THREE_PROBLEMS, "bad.toml")
    err = info.value
    assert len(err.errors) == 3
    assert str(err) == "\n".join(str(e) for e in err.errors)
    got = {(e.line, e.key) for e in err.errors}
    assert got == {
        (_line_of(THREE_PROBLEMS, "sigmoud"), "network.layers #2: activation"),
        (_line_of(THREE_PROBLEMS, "nan"), "samples #2 (Bob): x #2"),
        (_line_of(THREE_PROBLEMS, "w10"), "parameters.w10"),
    }
    # the error a one-error view shows is the first one found
    assert (err.file, err.line, err.key, err.reason) == (
        err.errors[0].file, err.errors[0].line, err.errors[0].key, err.errors[0].reason)


def test_cli_check_prints_three_located_lines_for_three_problems(tmp_path):
    f = tmp_path / "three.toml"
    f.write_text(THREE_PROBLEMS)
    good = ROOT / "scenarios" / "note-network.toml"
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", str(f), str(good)], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 2
    assert res.stdout.strip() == f"{good}: ok"
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in res.stderr
    parsed = [re.fullmatch(rf"{re.escape(str(f))}:(\d+): (.+)", ln) for ln in lines]
    assert all(parsed), lines
    text_lines = THREE_PROBLEMS.splitlines()
    words = {"network.layers #2: activation": "sigmoud", "samples #2 (Bob): x #2": "nan", "parameters.w10": "w10"}
    for m in parsed:
        line, rest = int(m.group(1)), m.group(2)
        key = next(k for k in words if rest.startswith(f"{k}: "))
        word, reason = words.pop(key), rest[len(key) + 2:]
        assert word in text_lines[line - 1] and reason


def test_dependent_problems_are_not_reported_twice():
    # a broken input name: the samples' x are not checked against it, the parameters not named from it
    text = variant('inputs = ["x1", "x2"]', 'inputs = ["x-1", "x2"]').replace("x = [25, 6]", "x = [25, 6, 7]")
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    assert [e.key for e in info.value.errors] == ["network.inputs #1"]
    # a custom activation with a problem, used again by name on the next layer: one problem
    text = variant('{ neurons = ["h1", "h2"], activation = "sigmoid" }',
                   '{ neurons = ["h1", "h2"], activation = { name = "soft", formula = "x * y" } }').replace(
        '{ neurons = ["o1"], activation = "sigmoid" }', '{ neurons = ["o1"], activation = "soft" }')
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    assert [e.key for e in info.value.errors] == ["network.layers #1: activation.formula"]


# --------------------------------------------------------------------------- control characters

CORPUS = sorted((ROOT / "tests" / "corpus" / "bad").glob("*.toml"))
UNSAFE = ["\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\u2066", "\x7f", "\r"]


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
@pytest.mark.parametrize("where", ["name", "description", "sample"])
def test_free_text_with_control_or_invisible_characters_is_refused(where, char):
    toml_char = f"\\u{ord(char):04x}"  # written as a TOML escape: raw control characters are not TOML
    old, key = {"name": ('name = "The note', "name"), "description": ('description = "Gender', "description"),
                "sample": ('name = "Bob', "samples #2: name")}[where]
    text = variant(old, f"{old}{toml_char}]52;c;ZWNobw=={toml_char}")
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    err = info.value
    assert err.key == key and err.line == _line_of(text, toml_char), str(err)
    assert "control or invisible character" in err.reason and f"'{visible(char)}'" in err.reason
    assert is_visible(str(err))


def test_descriptions_may_span_lines_and_names_may_not():
    text = variant('description = "Gender', 'description = """Two lines:\nGender') \
        .replace('Diana; sigmoid 2-2-1, MSE, learning rate 0.1, 1000 epochs."',
                 'Diana; sigmoid 2-2-1, MSE, learning rate 0.1, 1000 epochs."""')
    sc = parse_scenario(text, "ok.toml")
    assert sc.description.startswith("Two lines:\nGender")
    with pytest.raises(nnstep.ScenarioError, match="control or invisible character '\\\\n'"):
        parse_scenario(variant('name = "Bob"', 'name = "B\\nob"'), "bad.toml")


def test_quoted_file_text_is_escaped_and_cut_short():
    act = "sig\\u001b]52;c;" + "A" * 5000 + "\\u0007"  # TOML escapes for ESC ... BEL
    text = variant('{ neurons = ["o1"], activation = "sigmoid" }', '{ neurons = ["o1"], activation = "' + act + '" }')
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    reason = info.value.reason
    assert "'sig\\x1b]52;c;AAA" in reason and "…'" in reason and len(str(info.value)) < 300
    assert is_visible(str(info.value))


def test_check_never_prints_raw_control_characters():
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", *map(str, CORPUS)], capture_output=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 2
    err = res.stderr.decode("utf-8")
    assert "Traceback" not in err
    for line in err.splitlines():
        assert is_visible(line), line
    # the hostile files are in the corpus, and their text is shown escaped
    assert "'sig\\x1b]52;c;ZWNobyBvd25lZAo=\\x07moid'" in err
    assert "parameters.w1\\u202e: the network has no parameter 'w1\\u202e'" in err


# --------------------------------------------------------------------------- counting from 1


def test_positions_in_error_keys_count_from_1_with_one_spelling():
    keys = []
    for path in CORPUS:
        try:
            nnstep.load_scenario(path)
        except nnstep.ScenarioError as exc:
            keys += [e.key for e in exc.errors if e.key]
    assert not [k for k in keys if re.search(r"\[\d+\]", k)]  # no 0-based index left
    positions = [k for k in keys if "#" in k]
    assert len(positions) > 20
    for k in positions:
        assert re.fullmatch(r"[\w.]+ #[1-9]\d*( \([^)]*\))?(: [\w.]+( #[1-9]\d*)?)*(: [\w.\\-]+)?", k), k


def test_the_docs_errors_example_is_what_check_prints(tmp_path):
    docs = (ROOT / "docs" / "scenarios.md").read_text()
    section = docs.split("## Errors", 1)[1]
    shown = [ln for ln in section.split("```", 2)[1].splitlines() if ln.startswith("bad.toml:")]
    (tmp_path / "bad.toml").write_text(THREE_PROBLEMS)
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", "bad.toml"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2 and res.stderr.splitlines() == shown


def test_toml_nesting_is_bounded():
    ok = "a = " + "[" * 31 + "]" * 31 + "\n" + GOOD  # the top table and 31 arrays: 32 levels
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(ok, "bad.toml")
    assert info.value.key == "a"  # read fine: only the unknown key is wrong
    for depth in (32, 5000):
        with pytest.raises(nnstep.ScenarioError, match="nests more than 32 levels deep"):
            parse_scenario("a = " + "[" * depth + "]" * depth + "\n" + GOOD, "bad.toml")


def test_the_tui_error_view_lists_every_problem():
    from nnstep.tui.components.errors import error_text

    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(THREE_PROBLEMS, "bad.toml")
    shown = error_text(info.value).plain
    first, *others = info.value.errors
    assert first.reason in shown and first.key in shown
    assert all(f"also   {e}" in shown for e in others) and len(others) == 2


def test_too_many_parameters_are_counted_before_any_is_named(monkeypatch):
    import nnstep.scenario.network as network_checks
    from nnstep.scenario import bundled

    for path in bundled():  # the count is the number of parameters a scenario has
        sc = nnstep.load_scenario(path)
        if sc.graph is None:
            assert network_checks.parameter_count(len(sc.inputs), sc.layers) == len(sc.parameter_names)

    def refuse(*args, **kwargs):
        raise AssertionError("names planned for a network over the limit")

    monkeypatch.setattr(network_checks, "planned_names", refuse)
    monkeypatch.setattr(network_checks, "wire", refuse)
    huge = variant('{ neurons = ["h1", "h2"], activation = "sigmoid" },',
                   '{ neurons = 512 }, ' * 14 + '{ neurons = ["h1", "h2"], activation = "sigmoid" },')
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(huge, "bad.toml")
    assert [e.key for e in info.value.errors] == ["network.layers"]
    widths = [2] + [512] * 14 + [2, 1]  # inputs, then the 16 layers
    weights_and_biases = sum(n * (m + 1) for m, n in zip(widths, widths[1:]))
    assert f"has {weights_and_biases:,} parameters; at most 20,000" in info.value.reason
