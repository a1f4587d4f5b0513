"""The engine's layering holds (docs/architecture.md): import-linter's contracts in
pyproject.toml, and no module reaching into another's private names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nnstep"

ENGINE_CONTRACTS = ("layers", "no-textual", "sympy-in-symbolic", "acyclic")


def lint_imports(*contracts: str) -> subprocess.CompletedProcess[str]:
    code = ("import sys\nfrom importlinter.cli import lint_imports\n"
            f"sys.exit(lint_imports(limit_to_contracts={contracts!r}, no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_engine_contracts_are_kept():
    result = lint_imports(*ENGINE_CONTRACTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" KEPT") == len(ENGINE_CONTRACTS), result.stdout


def test_the_tui_imports_sympy_only_through_symbolic():
    result = lint_imports("tui-sympy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " KEPT" in result.stdout, result.stdout


def test_the_tui_has_no_import_cycles():
    result = lint_imports("tui-acyclic")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" KEPT") == 1, result.stdout


def test_the_tui_never_imports_the_server():
    """The served app's side lives in nnstep.tui.served: running the TUI loads no nnstep.serve."""
    code = ("import sys, nnstep.tui.app, nnstep.tui.compare, nnstep.tui.screens.open\n"
            "print(sorted(m for m in sys.modules if m.startswith('nnstep.serve')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_reintroduced_cycle_breaks_the_contracts(tmp_path):
    """The contracts see imports inside functions: the knot this layering untied
    (the program model building graphs) fails them again."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "nnstep", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    program = copy / "nnstep" / "program.py"
    program.write_text(program.read_text() + "\n\ndef _knot():\n    from .graph import build_graph_program\n\n"
                       "    return build_graph_program\n")
    code = ("import sys\nsys.path.insert(0, '.')\nfrom importlinter.cli import lint_imports\n"
            "sys.exit(lint_imports(limit_to_contracts=('layers', 'acyclic'), no_cache=True, no_logo=True))")
    result = subprocess.run([sys.executable, "-c", code], cwd=copy, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "nnstep.program -> nnstep.graph" in result.stdout, result.stdout
    assert "BROKEN" in result.stdout


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path) -> bool:
    file = root.joinpath(*name.split("."))
    return file.with_suffix(".py").is_file() or (file / "__init__.py").is_file()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_reaches(path: Path, root: Path = ROOT) -> list[str]:
    """Uses in ``path`` of another nnstep module's private names: ``from nnstep.x import _y``
    and ``x._y`` where ``x`` is an imported nnstep module (``root`` holds the package)."""
    module, is_package = _module_name(path, root), path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    modules: dict[str, str] = {}  # local name -> the nnstep module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node)
            if source.split(".")[0] != "nnstep":
                continue
            for alias in node.names:
                if source != module and _private(alias.name):
                    found.append(f"{path.name}:{node.lineno}: from {source} import {alias.name}")
                if _is_module(f"{source}.{alias.name}", root):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "nnstep":
                    modules[alias.asname or "nnstep"] = alias.name if alias.asname else "nnstep"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            target = modules.get(node.value.id)
            if target is not None and target != module:
                found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in private_reaches(path)]
    assert found == []


def test_the_private_name_check_sees_both_spellings(tmp_path):
    pkg = tmp_path / "nnstep"
    (pkg / "symbolic").mkdir(parents=True)
    for name in ("__init__.py", "scalar.py", "expr.py", "symbolic/__init__.py", "symbolic/formulas.py"):
        (pkg / name).write_text("")
    sample = pkg / "sample.py"
    sample.write_text("from . import scalar\nfrom .symbolic.formulas import _exact\nfrom .expr import show_formula\n"
                      "from .symbolic.formulas import symbol as _symbol\n\n"
                      "def _own():\n    return scalar._hidden + _symbol('x') + show_formula._cache\n")
    hits = private_reaches(sample, tmp_path)
    assert [h.split(": ", 1)[1] for h in hits] == ["from nnstep.symbolic.formulas import _exact", "scalar._hidden"]


def test_the_documented_layers_are_the_contracts_layers():
    """docs/architecture.md lists the layers bottom up, one line each, as the contract does top down."""
    import re
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["id"] == "layers"]
    doc = (ROOT / "docs" / "architecture.md").read_text()
    listed = re.findall(r"^\d+\. `([a-z_ |]+)`", doc, re.MULTILINE)
    assert listed == list(reversed(layers))


def test_the_formula_panes_plain_data_loads_no_sympy():
    """The TUI imports nnstep.symbolic.views at start-up: SymPy comes only with a Renderer
    (in the formula worker), and nnstep.symbolic's names still load on first use."""
    code = ("import sys\nimport nnstep.tui.formulas\nimport nnstep.symbolic.views\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sympy')[:1])\n"
            "from nnstep.symbolic import Symbolic, unicode_printing\n"
            "print('sympy' in sys.modules, Symbolic.__module__, unicode_printing.__module__)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True nnstep.symbolic.formulas nnstep.symbolic.printing"]
