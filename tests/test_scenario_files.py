"""Opening scenario files: only regular files are read, nothing blocks, and every odd
path or oversized number is one located line with exit code 2 (issue #10 items 5, 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nnstep
from nnstep.scenario import MAX_FILE_BYTES, parse_scenario, read_file
from nnstep.text import is_visible

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "scenarios" / "note-network.toml").read_text()


def check(*paths: str | Path, cwd: Path = ROOT) -> tuple[int, list[str]]:
    """``nnstep check`` in a subprocess with a time limit: a file that blocks fails the test."""
    res = subprocess.run([sys.executable, "-m", "nnstep", "check", *map(str, paths)], capture_output=True,
                         cwd=cwd, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    err = res.stderr.decode("utf-8")
    assert "Traceback" not in err, err
    return res.returncode, err.splitlines()


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    code, lines = check(fifo)  # no writer ever opens it: opening it for reading would wait forever
    assert code == 2 and lines == [f"{fifo}: is a named pipe (FIFO), not a scenario file: only regular files are read"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/tty"])
def test_devices_are_refused_without_reading(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    code, lines = check(device)
    assert code == 2 and lines == [f"{device}: is a character device, not a scenario file: only regular files are read"]
    with pytest.raises(nnstep.ScenarioError, match="character device"):
        read_file(device)


def test_a_directory_is_refused(tmp_path):
    code, lines = check(tmp_path)
    assert code == 2 and lines == [f"{tmp_path}: is a directory, not a scenario file"]


def test_odd_paths_give_one_line_each(tmp_path):
    long_name = "a" * 300 + ".toml"
    missing_dir = tmp_path / "no-such-dir" / "x.toml"
    under_a_file = tmp_path / "file.toml" / "x.toml"
    (tmp_path / "file.toml").write_text(GOOD)
    code, lines = check(long_name, "b" * 300, missing_dir, under_a_file, cwd=tmp_path)
    assert code == 2
    assert lines == [
        f"{long_name}: cannot read: File name too long",
        f"{'b' * 300}: no such file or bundled scenario" + lines[1].split("scenario", 1)[1],
        f"{missing_dir}: no such file",
        f"{under_a_file}: no such file (a part of the path is not a directory)",
    ]


def test_a_file_name_with_control_characters_is_shown_escaped(tmp_path):
    name = "evil\x1b]0;title\x07.toml"
    (tmp_path / name).write_text(GOOD.replace('loss = "mse"', 'loss = "mae"'))
    code, lines = check(name, cwd=tmp_path)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("evil\\x1b]0;title\\x07.toml:") and "unknown loss 'mae'" in lines[0]
    assert is_visible(lines[0])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_permission_denied(tmp_path):
    f = tmp_path / "secret.toml"
    f.write_text(GOOD)
    f.chmod(0)
    code, lines = check(f)
    assert code == 2 and lines == [f"{f}: cannot read: permission denied"]


def test_reading_stops_after_the_size_limit(tmp_path):
    f = tmp_path / "big.toml"
    f.write_bytes(b"#" * (MAX_FILE_BYTES + 10_000))
    assert len(read_file(f)) == MAX_FILE_BYTES + 1
    with pytest.raises(nnstep.ScenarioError, match="larger than 4 MB"):
        nnstep.load_scenario(f)


def test_an_integer_longer_than_python_converts_is_one_located_line():
    text = GOOD.replace("seed = 0", "seed = " + "9" * 5000)
    with pytest.raises(nnstep.ScenarioError) as info:
        parse_scenario(text, "long.toml")
    err = info.value
    assert err.line == 1 + text.splitlines().index("seed = " + "9" * 5000)
    assert "more than 4,300 digits" in err.reason and len(str(err)) < 200


def test_a_huge_hexadecimal_integer_is_refused_at_load(tmp_path):
    f = tmp_path / "hex.toml"
    f.write_text(GOOD.replace("epochs = 1000", "epochs = 0x" + "f" * 100_000))
    code, lines = check(f)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{f}:{1 + GOOD.splitlines().index('epochs = 1000')}: training.epochs: must be between 1")
    assert "a number of about 120,412 digits" in lines[0] and len(lines[0]) < 300 + len(str(f))
    # and as a parameter value or the seed
    for old, new in (("seed = 0", "seed = 0\nw1 = 0x" + "f" * 100_000), ("seed = 0", "seed = 0x" + "f" * 100_000)):
        with pytest.raises(nnstep.ScenarioError) as info:
            parse_scenario(GOOD.replace(old, new), "hex.toml")
        assert "digits" in info.value.reason and len(str(info.value)) < 200
