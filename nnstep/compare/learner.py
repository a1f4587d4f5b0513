"""The learner's program: read, and which of its names mean which of nnstep's."""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..text import visible
from .results import MAX_PROGRAM_BYTES, CompareError
from .where import Where, parse_where


@dataclass
class LearnerProgram:
    """The learner's file, read and compiled (not yet run)."""

    path: str
    source: str
    code: types.CodeType
    filename: str  # the code's co_filename

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def called_functions(self, line: int) -> list[tuple[str, int]]:
        """The functions defined in the program that the statement on ``line`` calls,
        with the line of their ``def``."""
        tree = ast.parse(self.source)
        defs = {n.name: n.lineno for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        out: list[tuple[str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                     ast.ClassDef, ast.For, ast.While, ast.If,
                                                                     ast.With, ast.Try)) \
                    and node.lineno <= line <= (node.end_lineno or node.lineno):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in defs \
                            and (call.func.id, defs[call.func.id]) not in out:
                        out.append((call.func.id, defs[call.func.id]))
        return out

    def line_text(self, line: int | None) -> str:
        if line is None or not 1 <= line <= len(self.lines):
            return ""
        return visible(self.lines[line - 1].strip())


def read_program(path: str | Path) -> LearnerProgram:
    """Read and compile the learner's program; one clear error when that fails."""
    label = str(path)
    p = Path(path)
    if not p.exists():
        raise CompareError("no such file", file=label)
    if not p.is_file():
        raise CompareError("not a file", file=label)
    try:
        size = p.stat().st_size
        if size > MAX_PROGRAM_BYTES:
            raise CompareError(f"{size:,} bytes: larger than the {MAX_PROGRAM_BYTES:,} bytes a program may have",
                               file=label)
        data = p.read_bytes()
    except OSError as exc:
        raise CompareError(f"cannot read it: {exc.strerror or exc}", file=label) from None
    try:
        from importlib.util import decode_source

        source = decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        raise CompareError("not a Python program: it is not text in a Python source encoding", file=label) from None
    filename = str(p.resolve())
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CompareError(f"not a Python program: {visible(exc.msg)}", file=label, line=exc.lineno) from None
    except ValueError as exc:  # null bytes on Python 3.11
        raise CompareError(f"not a Python program: {visible(exc)}", file=label) from None
    return LearnerProgram(label, source, code, filename)


def comment_mapping(prog: LearnerProgram, known: Iterable[str]) -> dict[str, Where]:
    """Mappings written in the program: ``dL_dy = ...  # nnstep: d_L_d_ypred`` names the
    assignment's target; ``# nnstep: w1=self.W1[0, 0], b1=self.B1[0]`` maps explicitly."""
    known = set(known)
    found: dict[str, Where] = {}
    targets: dict[int, list[str]] = {}
    for node in ast.walk(ast.parse(prog.source)):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            tgts = node.targets if isinstance(node, ast.Assign) else [node.target]
            for ln in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                targets.setdefault(ln, []).extend(ast.unparse(t) for t in tgts)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(prog.source).readline))
    except (tokenize.TokenError, SyntaxError):  # compiled fine, so this should not happen
        return found
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        m = re.match(r"#\s*nnstep\s*:\s*(.*)$", tok.string)
        if not m:
            continue
        line = tok.start[0]
        body = m.group(1).strip()
        try:
            if "=" in body:
                pairs = parse_mapping(body, known)
            else:
                name = _known_name(body, known)
                tgt = [t for t in targets.get(line, []) if _plain_target(t)]
                if len(tgt) != 1:
                    raise CompareError(f"'# nnstep: {visible(body)}' must be on a line that assigns one name")
                pairs = {name: parse_where(tgt[0])}
        except CompareError as exc:
            raise exc.located(file=prog.path, line=line) from None
        found.update(pairs)
    return found


def _plain_target(text: str) -> bool:
    try:
        parse_where(text)
    except CompareError:
        return False
    return True


def parse_mapping(text: str, known: Iterable[str]) -> dict[str, Where]:
    """``d_L_d_ypred=dL_dy, w1=self.W1[0, 1]``: nnstep name = where it lives in the program."""
    known = set(known)
    out: dict[str, Where] = {}
    for part in re.split(r",\s*(?=[A-Za-z_]\w*\s*=)", text.strip()):
        if not part.strip():
            continue
        name, eq, where = part.partition("=")
        if not eq or not where.strip():
            raise CompareError(f"'{visible(part.strip())}' should be NNSTEP_NAME=YOUR_NAME, e.g. d_L_d_ypred=dL_dy")
        out[_known_name(name.strip(), known)] = parse_where(where)
    return out


def _known_name(name: str, known: set[str]) -> str:
    if name in known:
        return name
    close = difflib.get_close_matches(name, sorted(known), n=1)
    extra = f"; did you mean '{close[0]}'?" if close else ""
    raise CompareError(f"'{visible(name)}' is not one of nnstep's names for this scenario{extra}")
