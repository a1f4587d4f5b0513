"""The docs hold: every example in README.md and docs/scenarios.md that can run does
what it says.

- ``console`` blocks: each ``$ nnstep …`` command runs in-process (``nnstep.cli.main``)
  and prints the lines shown under it (a line ending in ``…`` is a prefix; a line that
  is only ``…`` stands for the rest);
- ``python`` blocks run, and print what their ``# → …`` comments say;
- ``toml`` blocks load (a ``layers = […]`` fragment inside a small network);
- the error examples of docs/scenarios.md come out of files built to cause them;
- the condition examples fire on the default scenario, where and when the README says.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

import nnstep
from nnstep import cli
from nnstep.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "scenarios.md", ROOT / "docs" / "predictions.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(lang: str) -> list[tuple[str, str]]:
    """(where, body) of every fenced block in ``lang`` ('' for unlabelled) in the docs."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) == lang:
                found.append((f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}", m.group(2)))
    return found


def matches(shown: list[str], got: list[str]) -> bool:
    """Whether printed lines ``got`` are what the docs show (``…`` cuts short)."""
    for i, want in enumerate(shown):
        if want == "…":
            return True
        if i >= len(got):
            return False
        if want.endswith("…") and got[i].startswith(want[:-1].rstrip()):
            continue
        if got[i] != want:
            return False
    return len(got) == len(shown)


def readme_toml() -> str:
    return next(body for _, body in blocks("toml") if "[network]" in body and "[[samples]]" in body)


def run_cli(argv: list[str]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        cli.main(argv)
    return out.getvalue().splitlines()


# --------------------------------------------------------------------------- console


def console_examples() -> list[tuple[str, str, list[str]]]:
    examples = []
    for where, body in blocks("console"):
        command, shown = None, []
        for line in body.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((where, command, shown))
                command, shown = line[2:], []
            else:
                shown.append(line)
        if command is not None:
            examples.append((where, command, shown))
    return examples


def test_there_are_console_examples():
    assert len(console_examples()) >= 3


@pytest.mark.parametrize(("where", "command", "shown"), console_examples(),
                         ids=[f"{w} {c}" for w, c, _ in console_examples()])
def test_console_examples_print_what_they_show(where, command, shown, tmp_path, monkeypatch):
    # bad.toml: the README's note network with the typo its example names
    bad = readme_toml().replace('{ neurons = ["o1"], activation = "sigmoid" }',
                                '{ neurons = ["o1"], activation = "sigmoud" }')
    assert "sigmoud" in bad
    (tmp_path / "bad.toml").write_text(bad, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command.split("#")[0])
    assert argv[0] == "nnstep"
    got = run_cli(argv[1:])
    assert matches(shown, got), (where, command, got)


# --------------------------------------------------------------------------- python


@pytest.mark.parametrize(("where", "body"), blocks("python"), ids=[w for w, _ in blocks("python")])
def test_python_examples_run_and_print_what_they_say(where, body):
    shown = [line.split("# → ", 1)[1] for line in body.splitlines() if line.startswith("# → ")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(body, where, "exec"), {"__name__": "__doc_example__"})  # noqa: S102 - our own docs
    if shown:
        assert matches(shown, out.getvalue().splitlines()), (where, out.getvalue())


# --------------------------------------------------------------------------- toml

FRAGMENT = """\
[network]
inputs = ["x1"]
{body}
loss = "mse"

[[samples]]
x = [1]
y = [0.5]
"""


@pytest.mark.parametrize(("where", "body"), blocks("toml"), ids=[w for w, _ in blocks("toml")])
def test_toml_examples_load(where, body):
    text = FRAGMENT.format(body=body) if body.lstrip().startswith("layers") else body
    sc = parse_scenario(text, where)
    nnstep.Debugger(sc, epochs=1).run_to_end()


# --------------------------------------------------------------------------- error examples

#: docs/scenarios.md's formula errors, each from a graph whose line 6 is ``f = "…"``.
CAUSES = {"'.'": "x.real", "'open'": "open(x)", "exponent 1000": "x ** 1000"}
GRAPH = '[graph]\nparameters = ["x"]\n\n[graph.nodes]\nq = "x + 1"\nf = "{formula}"\n'


def error_examples() -> list[str]:
    return [line for _, body in blocks("") for line in body.splitlines() if line.startswith("bad.toml:6: graph.nodes.f")]


def test_there_are_error_examples():
    assert len(error_examples()) == len(CAUSES)


@pytest.mark.parametrize("line", error_examples())
def test_error_examples_are_what_check_prints(line, tmp_path, monkeypatch):
    formula = next(f for key, f in CAUSES.items() if f"graph.nodes.f: {key}" in line)
    (tmp_path / "bad.toml").write_text(GRAPH.format(formula=formula), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run_cli(["check", "bad.toml"]) == [line]


# --------------------------------------------------------------------------- conditions

WHERE = re.compile(r"`([^`]+)` (?:stops )?at epoch (\d+),\s+sample (\d+) \((\w+)\),\s+op (\d+)")


def readme_conditions() -> list[str]:
    text = DOCS[0].read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `B` |"))
    return [c for c in re.findall(r"`([^`]+)`", row) if c != "B"]


@pytest.mark.parametrize("condition", readme_conditions())
def test_readme_conditions_fire_on_the_default_scenario(condition):
    dbg = nnstep.Debugger(nnstep.load_scenario())
    dbg.add_condition(condition)
    stop = dbg.run_to_end()
    assert stop.reason == "condition", (condition, stop)


def test_readme_says_where_its_conditions_stop():
    text = " ".join(DOCS[0].read_text(encoding="utf-8").split())
    said = WHERE.findall(text)
    assert {c for c, *_ in said} == set(readme_conditions())
    for condition, epoch, sample, name, op in said:
        dbg = nnstep.Debugger(nnstep.load_scenario())
        dbg.add_condition(condition)
        assert dbg.run_to_end().reason == "condition"
        e, s, k = dbg.position()
        assert (e + 1, s + 1, k + 1, dbg.sample.name) == (int(epoch), int(sample), int(op), name)


# --------------------------------------------------------------------------- inline commands


def inline_commands() -> list[str]:
    """Concrete ``nnstep COMMAND …`` code spans in the docs' prose (no placeholders)."""
    found = set()
    for path in DOCS:
        for span in re.findall(r"`(nnstep [^`]+)`", path.read_text(encoding="utf-8")):
            words = span.split()
            if words[1] in cli.COMMANDS and not any(re.search("[A-Z]{2,}", w) or "[" in w or "…" in w for w in words):
                found.add(span)
    return sorted(found)


def test_there_are_inline_commands():
    assert {"nnstep list", "nnstep trace xor"} <= set(inline_commands())


@pytest.mark.parametrize("command", inline_commands())
def test_inline_commands_run(command, capsys):
    assert cli.main(shlex.split(command)[1:]) == 0
    out = capsys.readouterr()
    assert out.out and not out.err
