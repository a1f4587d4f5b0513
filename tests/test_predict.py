"""nnstep.predict.outputs: the same numbers as stepping the sample's forward pass."""

import csv
import io
import json

import numpy as np
import pytest

from nnstep import Debugger, cli
from nnstep.errors import NNStepError
from nnstep.predict import (
    MAX_ROWS,
    REGRESSION,
    SOFTMAX,
    THRESHOLD,
    output_names,
    outputs,
    parse_input,
    predict_new,
    predictions,
    rule,
)
from nnstep.trace import predict_report, trained
from nnstep.train import train

BUNDLED = ["note-network", "xor", "relu-softmax", "iris", "circuit"]


@pytest.mark.parametrize("name", BUNDLED)
def test_outputs_equal_the_stepped_forward_pass(name):
    dbg = Debugger(name)
    dbg.run_to_end() if dbg.total < 5_000 else dbg.goto(dbg.op_count * dbg.sample_count)
    params = list(dbg.old_parameters().values())
    X = [s.x for s in dbg.scenario.samples]
    got = outputs(dbg.program, params, X)
    names = output_names(dbg.program)
    for i in range(len(X)):
        v = dbg.program.new_slots()
        dbg.program.load(v, params, i)
        dbg.program.run(v, 0, dbg.program.loss_end)
        want = [v[dbg.program.slot[n]] for n in names]
        assert got[i].tolist() == want  # bit for bit


def test_bad_shapes_and_too_many_rows_are_one_line_errors():
    dbg = Debugger("note-network")
    with pytest.raises(NNStepError, match="2 values"):
        outputs(dbg.program, dbg.initial, [[1.0, 2.0, 3.0]])
    with pytest.raises(NNStepError, match="at most"):
        outputs(dbg.program, dbg.initial, np.zeros((MAX_ROWS + 1, 2)))


# --------------------------------------------------------------------------- the samples' table



@pytest.mark.parametrize("name", BUNDLED)
def test_each_rows_loss_is_the_sample_loss_and_the_mean_is_the_epoch_loss(name):
    dbg = Debugger(name)
    result = train(dbg.program, dbg.initial, 3)
    params = list(result.parameters.values())
    table = predictions(dbg.program, params)
    for i, row in enumerate(table.rows):
        assert row.loss == dbg.program.sample_loss(params, i)  # bit for bit, whichever path
        assert row.name == dbg.scenario.samples[i].name
    assert table.mean_loss == result.losses[-1]


def test_the_rule_follows_the_output_layer():
    assert rule(Debugger("note-network").program) == THRESHOLD
    assert rule(Debugger("xor").program) == THRESHOLD
    assert rule(Debugger("iris").program) == SOFTMAX
    assert rule(Debugger("relu-softmax").program) == SOFTMAX
    assert rule(Debugger("circuit").program) == REGRESSION
    assert rule(Debugger("diverging").program) == REGRESSION  # a linear output: no classes


def test_right_and_wrong_are_the_rules_verdicts():
    dbg = Debugger("iris")
    params = trained(dbg.program, dbg.initial, 5)
    table = predictions(dbg.program, params)
    names = dbg.program.scenario.outputs
    for row in table.rows:
        assert row.predicted == names[int(np.argmax(row.outputs))]
        assert row.expected == names[int(np.argmax(row.y))]
        assert row.right == (row.predicted == row.expected)
    assert table.right == sum(r.right for r in table.rows) and 0 < table.right <= 150
    dbg = Debugger("note-network")
    table = predictions(dbg.program, trained(dbg.program, dbg.initial, 1000))
    # after the scenario's 1000 epochs Alice and Diana (1) and Bob and Charlie (0) come out right
    assert [r.predicted for r in table.rows] == ["1", "0", "0", "1"] and table.accuracy == 1.0
    assert table.summary().startswith("accuracy 4/4 (100%)")


def test_new_inputs_are_the_networks_outputs():
    dbg = Debugger("note-network")
    params = trained(dbg.program, dbg.initial, 1000)
    x = parse_input(dbg.program, "x2=63-66, x1=128-135")  # 128 lb, 63 in, shifted as the samples are
    assert x == (-7.0, -3.0)
    (row,) = predict_new(dbg.program, params, [x])
    assert row.outputs == tuple(outputs(dbg.program, params, [[-7.0, -3.0]])[0])
    assert row.predicted == ("1" if row.outputs[0] >= 0.5 else "0") and row.loss is None


@pytest.mark.parametrize("text, words", [
    ("x1=1", "missing x2"),
    ("x1=1,x2=2,x3=3", "'x3': not an input"),
    ("x1=1,x1=2,x2=0", "x1: given twice"),
    ("x1 1,x2=2", "write NAME=VALUE"),
    ("x1=1e999,x2=0", "not finite"),
    ("x1=w1,x2=0", "x1: unknown name 'w1'"),
    ("x1=\x1b[31m,x2=0", "\\x1b"),
])
def test_bad_inputs_are_one_line_errors(text, words):
    with pytest.raises(NNStepError) as exc:
        parse_input(Debugger("note-network").program, text)
    assert words in str(exc.value) and "\n" not in str(exc.value) and "\x1b" not in str(exc.value)


def _predict_cli(capsys, *args):
    assert cli.main(["predict", *args]) == 0
    return capsys.readouterr().out


def test_predict_text_reads_back_to_the_engines_numbers(capsys):
    out = _predict_cli(capsys, "--epochs", "20", "--input", "x1=-7,x2=-3")
    dbg = Debugger("note-network")
    params = trained(dbg.program, dbg.initial, 20)
    table = predictions(dbg.program, params)
    lines = out.splitlines()
    assert lines[0] == "predictions after 20 epochs:"
    assert lines[1].split() == ["sample", "x1", "x2", "y_true", "o1", "loss", "class", "right"]
    for row, line in zip(table.rows, lines[2:6]):
        cells = line.split()
        assert cells[1] == row.name
        assert [float(c) for c in cells[2:7]] == [*row.x, *row.y, *row.outputs, row.loss]
        assert cells[7:] == [row.predicted, "right" if row.right else "wrong"]
    assert lines[6] == table.summary()
    new = lines[lines.index(next(ln for ln in lines if ln.startswith("new input"))) + 1].split()
    assert float(new[3]) == outputs(dbg.program, params, [[-7, -3]])[0][0]


def test_predict_json_and_csv_agree_with_the_engine(capsys):
    data = json.loads(_predict_cli(capsys, "iris", "--epochs", "2", "--format", "json",
                                   "--input", "sepal_length=5,sepal_width=3,petal_length=1.5,petal_width=0.2"))
    dbg = Debugger("iris")
    params = trained(dbg.program, dbg.initial, 2)
    table = predictions(dbg.program, params)
    assert data["epochs"] == 2 and data["rule"] == SOFTMAX
    assert [s["sample"] for s in data["samples"]] == list(range(1, 151))
    assert [s["loss"] for s in data["samples"]] == [r.loss for r in table.rows]
    assert data["right"] == table.right and data["accuracy"] == table.right / 150
    assert data["mean_loss"] == table.mean_loss
    assert data["new"][0]["outputs"] == outputs(dbg.program, params, [[5, 3, 1.5, 0.2]])[0].tolist()
    rows = list(csv.DictReader(io.StringIO(_predict_cli(capsys, "--epochs", "0", "--format", "csv"))))
    dbg = Debugger("note-network")
    table = predictions(dbg.program, dbg.initial)
    assert [float(r["loss"]) for r in rows[:4]] == [r.loss for r in table.rows]
    assert rows[-1]["kind"] == "mean" and float(rows[-1]["loss"]) == table.mean_loss
    assert rows[-1]["right"] == f"{table.right} of 4"


def test_predict_escapes_names_from_the_file(tmp_path, capsys):
    from nnstep.scenario.files import resolve

    path = tmp_path / "evil.toml"
    text = resolve("note-network").read_text().replace('name = "Alice"', 'name = "=cmd|\' /C calc\'!A0"')
    path.write_text(text)
    out = _predict_cli(capsys, str(path), "--epochs", "1", "--format", "csv")
    assert "'=cmd" in out


def test_predict_bad_input_is_one_located_line(capsys):
    assert cli.main(["predict", "--input", "x1=1,x2=2", "--input", "x9=0"]) == 2
    err = capsys.readouterr().err
    assert err == ("nnstep predict: --input #2: 'x9': not an input of this network; its inputs are x1, x2\n")


def test_train_ends_with_the_predictions_in_every_format(capsys):
    assert cli.main(["train", "--epochs", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    dbg = Debugger("note-network")
    table = predictions(dbg.program, trained(dbg.program, dbg.initial, 5))
    at = lines.index("predictions after epoch 5:")
    assert lines[at + 6] == table.summary() and lines.index("parameters:") > at
    assert cli.main(["train", "--epochs", "5", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["predictions"]["mean_loss"] == table.mean_loss == data["losses"][-1]
    assert [s["right"] for s in data["predictions"]["samples"]] == [r.right for r in table.rows]


def test_predict_report_by_api():
    out = io.StringIO()
    predict_report("xor", epochs=200, inputs=["x1=1,x2=0"], out=out)
    assert "accuracy 4/4" in out.getvalue()
