"""Patching out dynamic evaluation: eval, exec and compile of text, and SymPy's
string parsers.  The one compile allowed is nnstep's own code generator's, of
an ``ast`` tree it made (checked again here), never of text."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from nnstep import codegen


def forbid_dynamic_evaluation(patch) -> list:
    """Patch everything out with ``patch`` (a monkeypatch); returns the list that
    records each forbidden call (each also raises AssertionError)."""
    import sympy
    from sympy.parsing import sympy_parser

    real_exec, real_compile = builtins.exec, builtins.compile
    reached: list = []

    def forbidden(*args, **kwargs):
        reached.append(args[:1])
        raise AssertionError("forbidden call reached")

    def guarded_exec(code, *args, **kwargs):
        # the import system executes compiled module files; text is never executed
        if isinstance(code, str | bytes) or not Path(code.co_filename).is_file():
            return forbidden(code)
        return real_exec(code, *args, **kwargs)

    def guarded_compile(source, filename, *args, **kwargs):
        if isinstance(source, ast.Module) and filename == codegen.FILENAME:
            codegen.check_generated(source)  # only identifiers, operators and numbers it made
            return real_compile(source, filename, *args, **kwargs)
        if not str(filename).endswith(".py"):
            return forbidden(source)
        return real_compile(source, filename, *args, **kwargs)

    for target, name, fn in [(builtins, "eval", forbidden), (builtins, "exec", guarded_exec),
                             (builtins, "compile", guarded_compile), (sympy, "sympify", forbidden),
                             (sympy, "parse_expr", forbidden), (sympy_parser, "parse_expr", forbidden),
                             (sympy, "lambdify", forbidden), (ast, "parse", forbidden)]:
        patch.setattr(target, name, fn, raising=False)
    return reached
