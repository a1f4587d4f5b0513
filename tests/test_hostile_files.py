"""Hostile and broken scenario files: one clear line each, never a traceback,
never a hang, never code execution."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnstep
from nnstep.build import build_program
from nnstep.errors import NNStepError
from nnstep.scenario import bundled, parse_scenario

from guards import forbid_dynamic_evaluation

ROOT = Path(__file__).resolve().parents[1]
BAD = sorted((ROOT / "tests" / "corpus" / "bad").glob("*.toml"))


def expected_key(path: Path) -> str | None:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii", "replace")
    m = re.match(r"# expect: (.+?)\s*$", first)
    return None if not m or m.group(1) == "-" else m.group(1)


def test_the_corpus_is_big_enough():
    assert len(BAD) >= 40


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_each_bad_file_gives_one_located_line(path):
    with pytest.raises(NNStepError) as info:
        build_program(nnstep.load_scenario(path))
    err = info.value
    text = str(err)
    assert "\n" not in text and text.startswith(str(path))
    assert err.file == str(path)
    want = expected_key(path)
    if want is not None:
        assert err.key == want, text
        if not err.reason.startswith("missing"):  # a missing key has no line to point at
            assert err.line is not None, text
    assert len(text) < 400


def test_cli_check_prints_one_line_per_bad_file():
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", *map(str, BAD)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == len(BAD)
    assert "Traceback" not in res.stderr
    for path, line in zip(BAD, lines):
        assert line.startswith(str(path))


def test_generated_absurd_files(tmp_path):
    many = tmp_path / "ten-million-samples.toml"
    text = (ROOT / "scenarios" / "note-network.toml").read_text().split("[[samples]]")[0]
    many.write_text(text + "[[samples]]\nx = [1, 2]\ny = [1]\n" * 300_000)  # ~9 MB, bigger than allowed
    with pytest.raises(nnstep.ScenarioError, match="larger than"):
        nnstep.load_scenario(many)
    wide = tmp_path / "wide-samples.toml"
    wide.write_text("samples = [" + "{ x = [1, 2], y = [1] }," * 30_000 + "]\n" + text)
    with pytest.raises(nnstep.ScenarioError, match="at most"):
        nnstep.load_scenario(wide)


def _mutations():
    texts = [p.read_text() for p in bundled()]
    tokens = ["[", "]", "{", "}", "=", '"', ",", "\n", "#", "nan", "inf", "-", "1e999", "softmax", "relu",
              "neurons", "[[samples]]", "[network]", "x = [", "0", "h1", "__import__", "\x00", "é", "9" * 30]
    return st.tuples(st.sampled_from(texts), st.lists(
        st.tuples(st.sampled_from(["insert", "delete", "replace", "duplicate"]), st.integers(0, 10**9),
                  st.integers(1, 40), st.sampled_from(tokens)), min_size=1, max_size=6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_mutated_files_load_or_fail_cleanly(case):
    text, edits = case
    for kind, pos, length, token in edits:
        pos %= max(1, len(text))
        if kind == "insert":
            text = text[:pos] + token + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + length:]
        elif kind == "replace":
            text = text[:pos] + token + text[pos + length:]
        else:
            text = text[:pos] + text[pos:pos + length] * 3 + text[pos:]
    try:
        sc = parse_scenario(text, "mutant.toml")
        dbg = nnstep.Debugger(sc, epochs=1)
        dbg.run_until(min(dbg.total, 3 * dbg.op_count))
    except NNStepError as exc:  # one line per problem found
        lines = str(exc).splitlines()
        assert len(lines) == len(exc.errors) and all(line.startswith("mutant.toml") for line in lines)


def test_no_eval_exec_or_sympify_while_loading_checking_and_tracing(monkeypatch):
    from nnstep.trace import trace_rows

    reached = forbid_dynamic_evaluation(monkeypatch)
    traced = 0
    for path in [*bundled(), *BAD]:
        try:
            rows = list(trace_rows(str(path), samples=1))
        except NNStepError:
            continue
        assert rows and all(r.formula for r in rows)
        traced += 1
    assert traced == len(bundled()) and not reached
