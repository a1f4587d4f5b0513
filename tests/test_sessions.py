"""Sessions (issue #14 item 6): save → load → restore is the same state bit for bit;
damaged or hostile session files are one located line and exit code 2."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstep import cli, session
from nnstep.debugger import Debugger

from guards import forbid_dynamic_evaluation

EPOCHS = 3
GOOD = """\
nnstep_session = 1
scenario = "note-network"
seed = 0
epochs = 3
at = [1, 2, 5]
breakpoints = ["d_L_d_w1"]
conditions = ["L < 0.01"]
watches = ["h1 * (1 - h1)"]

[[edits]]
at = [1, 2, 3]
name = "w1"
formula = "w1 * 2"
value = {value}
"""


HEAD = "nnstep_session = 1\nscenario = 'note-network'\nseed = 0\nepochs = 3\nat = [1, 1, 0]\n"


def good_text() -> str:
    dbg = Debugger("note-network", epochs=EPOCHS)
    dbg.goto(dbg.op_count + 3)
    return GOOD.format(value=repr(dbg.edit("w1", "w1 * 2").value))


@settings(max_examples=20, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(0, EPOCHS * 4 * 40),
                                st.sampled_from(["", "w2", "b1", "x1", "y_true", "learn_rate"]),
                                st.floats(-2, 2, allow_nan=False)), min_size=1, max_size=5),
       bp=st.sets(st.sampled_from(["h1", "L", "d_L_d_w5", "w3"]), max_size=3),
       seed=st.integers(0, 2**32 - 1), nonfinite=st.booleans())
def test_saved_sessions_restore_bit_for_bit(tmp_path_factory, moves, bp, seed, nonfinite):
    dbg = Debugger("note-network", epochs=EPOCHS, seed=seed)
    for name in bp:
        dbg.toggle_breakpoint(name)
    dbg.add_condition("abs(d_L_d_w1) > 0.04")
    dbg.stop_on_nonfinite = nonfinite
    for t, name, value in moves:
        dbg.goto(t)
        if name:
            dbg.edit(name, f"{name} + {value!r}" if name != "learn_rate" else repr(abs(value) + 0.01))
    path = tmp_path_factory.mktemp("s") / "s.toml"
    session.save(session.session_of(dbg, "note-network", ["h1 * 2", "L > 0.1"]), path)
    loaded = session.load(path)
    back = session.restore(loaded)
    assert back.state() == dbg.state() and back.edits == dbg.edits
    assert back.breakpoints == dbg.breakpoints and back.stop_on_nonfinite == nonfinite
    assert [c.text for c in back.conditions] == [c.text for c in dbg.conditions]
    assert loaded.watches == ("h1 * 2", "L > 0.1") and back.seed == seed
    for t in (0, back.total, dbg.t // 2):  # and everywhere else too
        back.goto(t)
        dbg.goto(t)
        assert back.state() == dbg.state()


def test_the_good_file_restores_where_it_says(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(good_text())
    dbg = session.restore(session.load(path))
    K = dbg.op_count
    assert dbg.t == K + 5 and dbg.position() == (0, 1, 4)
    assert dbg.edits[0].g == 1 and dbg.edits[0].k == 3
    assert session.position(dbg) == (1, 2, 5)


def test_relative_scenario_paths_are_from_the_session_file(tmp_path, monkeypatch):
    src = Path(__file__).parent.parent / "scenarios" / "xor.toml"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.toml").write_text(src.read_text())
    dbg = Debugger(tmp_path / "sub" / "mine.toml", epochs=2)
    dbg.step(7)
    path = tmp_path / "sub" / "mine.nnstep-session.toml"
    ref = session.scenario_ref(dbg.scenario, str(tmp_path / "sub" / "mine.toml"), path)
    assert ref == "mine.toml"
    session.save(session.session_of(dbg, ref), path)
    monkeypatch.chdir(tmp_path)  # the session names the scenario relative to itself, not to the cwd
    assert session.restore(session.load(path)).state() == dbg.state()


BAD = [  # (file text or bytes, the line, words of the reason)
    (HEAD + "bogus = 1\n", 6, "bogus: unknown key"),
    (HEAD.replace("nnstep_session = 1", "nnstep_session = 2"), 1, "must be 1"),
    ("nnstep_session = 1\nscenario = 'note-network'\nseed = 0\n", None, "missing key 'epochs'"),
    (HEAD.replace("at = [1, 1, 0]", "at = [1, 1,"), 5, "TOML syntax error: Invalid value at the end of the file"),
    (HEAD.replace("epochs = 3", "epochs = 99999999999"), 4, "epochs: must be between"),
    (HEAD.replace("at = [1, 1, 0]", "at = [9, 1, 1]"), 5, "epoch 9 is past the last epoch (3)"),
    (HEAD.replace("at = [1, 1, 0]", "at = [1, 1, 41]"), 5, "op 41 is past the last op"),
    (HEAD.replace("at = [1, 1, 0]", "at = [1, 2, 0]"), 5, "op 0 (before the first op) is only the very start"),
    (HEAD.replace("at = [1, 1, 0]", "at = [1, 1]"), 5, "must be [epoch, sample, op]"),
    (HEAD + "breakpoints = ['nope']\n", 6, "no op named 'nope'"),
    (HEAD + "conditions = [\"__import__('os').system('echo pwned')\"]\n", 6, "conditions: "),
    (HEAD + "watches = ['(' ]\n", 6, "watches: formula ends too early"),
    (HEAD + 'watches = ["\\u001b[31mred"]\n', 6, "control or invisible character"),
    (HEAD + "conditions = [" + "'L > 0', " * 65 + "]\n", 6, "at most 64"),
    (HEAD + "watches = ['" + "h1 + " * 500 + "h1']\n", 6, "longer than 2,000 characters"),
    (HEAD + "\n[[edits]]\nat = [1, 1, 2]\nname = 'sum_h1'\nformula = '1'\nvalue = 1.0\n", 7, "is computed by op 1"),
    (HEAD + "\n[[edits]]\nat = [1, 1, 2]\nname = 'w1'\nformula = 'w1 * 2'\nvalue = 1.0\n", 7,
     "but the session saved 1.0"),
    (HEAD + "\n[[edits]]\nat = [1, 1, 2]\nname = 'w1'\nformula = 'w1'\n", 7, "missing key 'value'"),
    (HEAD + "\n[[edits]]\nat = [1, 1, 2]\nname = 'os.system'\nformula = '1'\nvalue = 1.0\n", 9,
     "not a plain name"),
    (HEAD + "\n[[edits]]\nat = [1, 1, 2]\nname = 'w1'\nformula = 'w1 ** 99999'\nvalue = 1.0\n", 7, ""),
    (HEAD.replace("'note-network'", "'../../nowhere/x.toml'"), 2, "scenario: "),
    (HEAD.replace("'note-network'", "'no-such-scenario'"), 2, "scenario: no such file or bundled scenario"),
    (b"nnstep_session = 1\n\xff\xfe", 2, "not UTF-8"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", None, ""),
    ("x = '" + "a" * 300_000 + "'\n", None, "larger than 256 kB"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_session_files_are_one_located_line(tmp_path, capsys, monkeypatch, text, line, words):
    reached = forbid_dynamic_evaluation(monkeypatch)
    path = tmp_path / "s.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert cli.main(["--session", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not reached
    assert err.count("\n") == 1 and "Traceback" not in err and "\x1b" not in err
    assert err.startswith(f"{path}:{line}: " if line else f"{path}")
    assert words in err


def test_a_fifo_or_a_directory_is_one_line(tmp_path, capsys):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for p in (fifo, tmp_path):
        assert cli.main(["--session", str(p)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(str(p))


def test_cli_restores_and_says_it_needs_a_terminal(tmp_path, capsys):
    path = tmp_path / "good.toml"
    path.write_text(good_text())
    assert cli.main(["note-network", "--session", str(path)]) == 2  # not a terminal here
    assert "session ok" in capsys.readouterr().err


def test_dumped_text_escapes_what_toml_needs(tmp_path):
    dbg = Debugger("note-network", epochs=1)
    path = session.save(session.session_of(dbg, 'we"ird\\name é', ["h1"]), tmp_path / "s.toml")
    assert session.load(path).scenario == 'we"ird\\name é'
    text = session.dumps(session.session_of(dbg, "del\x7f\x1b", ["h1"]))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\U0010ffff]", text)
    with pytest.raises(session.SessionError, match="control or invisible"):  # written, but refused as a name
        session.load(session.save(session.session_of(dbg, "del\x7f", ["h1"]), tmp_path / "t.toml"))


def test_the_readme_error_example_is_what_nnstep_prints(tmp_path, capsys, monkeypatch):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    (shown,) = re.findall(r"^s\.nnstep-session\.toml:.*$", readme, re.M)
    monkeypatch.chdir(tmp_path)
    Path("s.nnstep-session.toml").write_text(HEAD + "breakpoints = ['nope']\n")
    assert cli.main(["--session", "s.nnstep-session.toml"]) == 2
    assert capsys.readouterr().err == shown + "\n"
