"""What the CLI prints holds: file text escaped in every format, counts from 1, the
initial parameters on request, losses streamed, a note where --seed changes nothing."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import pytest

import nnstep
from nnstep import cli
from nnstep.debugger import Debugger
from nnstep.scenario import load_scenario
from nnstep.trace import trace, train_report
from nnstep.train import train

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
HOSTILE = f"Bob{OSC52}\u202eevil\nnext | <script>x</script>"
#: What must never reach stdout raw: C0 (but newline), DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def hostile_scenario():
    """The default scenario with hostile names (built in memory: the loader refuses them)."""
    sc = load_scenario()
    samples = list(sc.samples)
    samples[0] = dataclasses.replace(samples[0], name="=cmd|' /C calc'!A0")
    samples[1] = dataclasses.replace(samples[1], name=HOSTILE)
    return dataclasses.replace(sc, name=f"net{OSC52}", description=HOSTILE, samples=tuple(samples))


def traced(sc, fmt: str, **kw) -> str:
    out = io.StringIO()
    trace(sc, fmt=fmt, out=out, **kw)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "markdown"])
def test_no_raw_control_characters_in_any_trace_format(fmt):
    text = traced(hostile_scenario(), fmt, samples=2)
    assert not RAW.search(text), RAW.search(text)
    if fmt == "markdown":  # the one format read as HTML
        assert "<script>" not in text


def test_jsonl_keeps_the_hostile_name_exactly():
    rows = [json.loads(x) for x in traced(hostile_scenario(), "jsonl", samples=2).splitlines()]
    assert {r["sample_name"] for r in rows} == {"=cmd|' /C calc'!A0", HOSTILE}


def test_text_trace_shows_escapes_and_one_header_line_per_sample():
    text = traced(hostile_scenario(), "text", samples=2)
    heads = [ln for ln in text.splitlines() if ln.startswith("# epoch")]
    assert len(heads) == 2
    assert heads[1].startswith("# epoch 1, sample 2 (Bob\\x1b]52;c;")
    assert "\\u202e" in heads[1] and "\\n" in heads[1]


def test_markdown_table_keeps_its_rows_and_columns():
    sc = hostile_scenario()
    K = Debugger(sc).op_count
    lines = traced(sc, "markdown", samples=2).splitlines()
    assert len(lines) == 2 + 2 * K
    for line in lines:
        cells = re.split(r"(?<!\\)\|", line)
        assert len(cells) == 7 + 2, line  # 7 cells between the outer bars
    assert "&lt;" not in lines[-1] and "\\<script\\>" in "\n".join(lines)


def test_csv_parses_into_columns_and_no_cell_is_a_formula():
    sc = hostile_scenario()
    K = Debugger(sc).op_count
    rows = list(csv.reader(io.StringIO(traced(sc, "csv", samples=2))))
    assert len(rows) == 1 + 2 * K
    assert all(len(r) == 9 for r in rows)
    for r in rows:
        for cell in r:
            if cell[:1] in ("=", "+", "-", "@"):
                float(cell)  # only numbers may start so
    assert {r[2] for r in rows[1:]} == {"'=cmd|' /C calc'!A0", "Bob\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\u202eevil\\nnext | <script>x</script>"}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_train_report_escapes_the_scenario_name(fmt):
    out = io.StringIO()
    train_report(hostile_scenario(), epochs=2, fmt=fmt, out=out)
    assert not RAW.search(out.getvalue())
    if fmt == "json":
        assert json.loads(out.getvalue())["scenario"] == f"net{OSC52}"


def test_list_escapes_names_and_descriptions(monkeypatch, capsys):
    import nnstep.scenario

    monkeypatch.setattr(nnstep.scenario, "iter_descriptions", lambda: iter([("x", f"n{OSC52}", HOSTILE)]))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out) and out.count("\n") == 1
    assert "\\x1b]52" in out


def test_error_lines_escape_what_they_quote(capsys):
    assert cli.main(["trace", f"no{OSC52}such"]) == 2
    err = capsys.readouterr().err
    assert not RAW.search(err) and err.count("\n") == 1 and "\\x1b" in err
    assert cli.main(["train", "--epochs", f"1{OSC52}"]) == 2
    err = capsys.readouterr().err
    assert not RAW.search(err) and err.count("\n") == 1


# --------------------------------------------------------------------------- counting


def test_every_format_counts_epochs_samples_and_steps_from_1():
    sc = load_scenario()
    dbg = Debugger(sc)
    K, M = dbg.op_count, dbg.sample_count
    rows = [json.loads(x) for x in traced(sc, "jsonl", epochs=2).splitlines()]
    for t, r in enumerate(rows):
        assert (r["epoch"], r["sample"], r["step"]) == (t // (K * M) + 1, t // K % M + 1, t % K + 1)
    csv_rows = list(csv.DictReader(io.StringIO(traced(sc, "csv", epochs=2))))
    assert [(int(r["epoch"]), int(r["sample"]), int(r["step"])) for r in csv_rows] == \
        [(r["epoch"], r["sample"], r["step"]) for r in rows]
    heads = [ln for ln in traced(sc, "text", epochs=2).splitlines() if ln.startswith("#")]
    names = [s.name for s in sc.samples]
    assert heads == [f"# epoch {e}, sample {s} ({names[s - 1]})" for e in (1, 2) for s in range(1, M + 1)]
    md = traced(sc, "markdown", steps=K + 1).splitlines()[2:]
    assert [c.strip() for c in md[-1].split("|")[1:4]] == ["1", f"2 {names[1]}", "1"]


# --------------------------------------------------------------------------- train


@pytest.mark.parametrize("scenario", ["note-network", "circuit"])
def test_epochs_0_prints_the_initial_parameters_in_every_format(scenario, capsys):
    sc = load_scenario(scenario)
    want = sc.initial_parameters(7 if scenario == "note-network" else None)
    seed = ["--seed", "7"] if scenario == "note-network" else []
    assert cli.main(["train", scenario, "--epochs", "0", "--format", "json", *seed]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["losses"] == [] and data["epochs"] == 0 and data["parameters"] == want
    assert cli.main(["train", scenario, "--epochs", "0", *seed]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "parameters (initial, before any epoch):"
    assert {k: float(v) for k, v in (ln.strip().split(" = ") for ln in lines[1:])} == want


class Recorder(io.StringIO):
    """Records how many epoch lines had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue().count("\nepoch ") + self.getvalue().startswith("epoch "))


@pytest.mark.parametrize("scenario", ["note-network", "iris"])
def test_train_text_streams_each_epoch_as_it_goes(scenario):
    out = Recorder()
    train_report(scenario, epochs=3, fmt="text", out=out)
    assert out.flushed[:3] == [1, 2, 3]


def test_streaming_training_keeps_no_losses():
    dbg = Debugger(nnstep.load_scenario())
    seen: list[float] = []
    result = train(dbg.program, dbg.initial, 5, on_epoch=lambda e, loss: seen.append(loss), keep_losses=False)
    assert result.losses == [] and seen == train(dbg.program, dbg.initial, 5).losses


def test_json_losses_are_the_engines(capsys):
    assert cli.main(["train", "xor", "--epochs", "4", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    dbg = Debugger(load_scenario("xor"))
    want = train(dbg.program, dbg.initial, 4)
    assert data["losses"] == want.losses and data["parameters"] == want.parameters


# --------------------------------------------------------------------------- --seed


@pytest.mark.parametrize("command", ["train", "trace"])
def test_seed_with_nothing_to_draw_says_so(command, capsys):
    assert cli.main([command, "circuit", "--seed", "4"]) == 0
    seeded = capsys.readouterr()
    assert seeded.err.count("\n") == 1 and "--seed 4 changes nothing" in seeded.err
    assert cli.main([command, "circuit"]) == 0
    plain = capsys.readouterr()
    assert plain.err == "" and plain.out == seeded.out


def test_seed_that_draws_says_nothing(capsys):
    assert cli.main(["train", "--epochs", "1", "--seed", "4"]) == 0
    assert capsys.readouterr().err == ""


def test_check_escapes_the_file_name_it_prints(tmp_path, monkeypatch, capsys):
    from nnstep.scenario import resolve

    name = "ok\x1b]0;pwned\x07.toml"
    (tmp_path / name).write_bytes(resolve(None).read_bytes())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", name]) == 0
    out = capsys.readouterr().out
    assert out == "ok\\x1b]0;pwned\\x07.toml: ok\n"
