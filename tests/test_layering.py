"""The pipeline's layering, as tracespec/__init__.py states it: each stage imports only the stages before
it, and the code that wires stages together (pipeline, sessions, the command line) sits above them all.

Imports are read from the source (every `import` statement, including those inside functions, which is
where the command line keeps its lazy ones), so the test needs nothing but the files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracespec"

# Lower numbers come first. Data and vocabulary that every stage shares sit at 0; stages may import
# their own package and any package of a lower number; the wiring at the top may import anything.
LAYERS = {
    "errors": 0, "wire": 0, "quote": 0, "catalogue": 0, "kernel": 0,
    "spec": 1,
    "validate": 2,
    "plan": 3,
    "codegen": 4,
    "runtime": 5,
    "decode": 6,
    "format": 7,
    "pipeline": 8, "session": 8, "serve": 8, "cli": 8, "__main__": 8,
}
TOP = "tracespec"  # `import tracespec` (for __version__) is allowed anywhere: __init__ imports nothing


def _layer_of(parts: tuple[str, ...]) -> str:
    return parts[0] if parts else TOP


def _imports(path: Path) -> list[tuple[int, str]]:
    return _imports_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _imports_in(source: str, module: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, imported module) for every tracespec import in a module's source, relative ones resolved;
    `module` is its dotted name as parts, e.g. ("tracespec", "plan", "model")."""
    package = module[:-1] if module[-1] != "__init__" else module[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ((node.module,) if node.module else ()))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return [(line, name) for line, name in found if name == TOP or name.startswith(TOP + ".")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_package_has_a_layer():
    """A new stage or top-level module must be placed in LAYERS, or it would escape the test."""
    names = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()} - {"__init__"}
    assert names <= set(LAYERS), f"not placed in a layer: {sorted(names - set(LAYERS))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_stage_imports_a_later_one(path: Path):
    own = _layer_of(path.relative_to(PACKAGE).with_suffix("").parts)
    if own == "__init__":
        return  # tracespec/__init__.py itself: checked to import nothing below
    rank = LAYERS[own]
    wrong = []
    for line, name in _imports(path):
        target = _layer_of(tuple(name.split(".")[1:]))
        if target == TOP or target == own:
            continue
        if LAYERS.get(target, 99) > rank:
            wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} imports {name} (a later stage)")
    assert not wrong, "\n".join(wrong)


def test_the_package_root_imports_nothing():
    assert _imports(PACKAGE / "__init__.py") == []


def test_the_reader_of_imports_sees_lazy_and_relative_ones():
    """What the layering test relies on: imports inside functions, relative ones, plain `import`."""
    src = ("import os\nimport tracespec\nfrom tracespec.errors import X\n"
           "def f():\n    from tracespec.runtime import loader\n    from ..format import text\n"
           "    import tracespec.decode.events\n")
    assert _imports_in(src, ("tracespec", "plan", "model")) == [
        (2, "tracespec"), (3, "tracespec.errors"), (5, "tracespec.runtime"), (6, "tracespec.format"),
        (7, "tracespec.decode.events")]
