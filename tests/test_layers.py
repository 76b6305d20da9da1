"""The package's layers: the paper's core, the library the lessons import, the programs.

Each layer imports only itself and the layers below it, read from the source
(every import statement, also those inside functions), so a lazy import cannot
hide a wrong direction.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "centerloss"
CORE = {"loss", "margins", "model", "checks", "article", "pipeline"}
# The core checks its arguments with the library's validators (λ, α, positive counts).
CORE_MAY_IMPORT = CORE | {"config"}


def modules():
    """{dotted name: path} of every module of the package."""
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): path
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def imported(path):
    """The centerloss modules that the file at ``path`` imports, as dotted names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("centerloss.")}


def layer(name):
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in ("apps", "__main__"):  # __main__: python -m centerloss
        return "programs"
    if len(parts) > 1 and parts[1] in CORE:
        return "core"
    return "library"


LIBRARY = [name for name in modules() if layer(name) == "library"]
CORE_MODULES = [name for name in modules() if layer(name) == "core"]


def test_the_layers_are_what_the_tree_shows():
    assert {name.split(".")[1] for name in CORE_MODULES} == CORE
    programs = {name for name in modules() if layer(name) == "programs"}
    for program in ("cli", "demo", "playground", "reproduce", "runtime"):
        assert any(name.startswith(f"centerloss.apps.{program}") for name in programs)
    assert "centerloss.recipe" in LIBRARY and "centerloss.plots.grids" in LIBRARY


@pytest.mark.parametrize("name", LIBRARY)
def test_the_library_never_imports_a_program(name):
    programs = sorted(n for n in imported(modules()[name]) if layer(n) == "programs")
    assert not programs, f"{name} imports {programs}: move the shared piece into the library"


@pytest.mark.parametrize("name", CORE_MODULES)
def test_the_core_imports_only_the_core(name):
    outside = sorted(n for n in imported(modules()[name]) if n.split(".")[1] not in CORE_MAY_IMPORT)
    assert not outside, f"{name} imports {outside}"


def test_the_check_can_fail(tmp_path):
    # A library module with a lazy import of a program, inside a function.
    source = tmp_path / "module.py"
    source.write_text("def f():\n    from centerloss.apps.demo import run_demo\n")
    assert {layer(name) for name in imported(source)} == {"programs"}


def public_names(path):
    """The public functions, classes and UPPER_CASE constants a module defines."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper())
    return {name for name in names if not name.startswith("_")}


def test_the_api_page_lists_every_public_function_and_class():
    page = (PACKAGE.parent / "docs" / "api.md").read_text(encoding="utf-8")
    page = re.sub(r"```.*?```", "", page, flags=re.DOTALL)  # the examples: not a listing
    code = set(re.findall(r"\w+", " ".join(re.findall(r"`([^`]+)`", page))))  # code spans
    missing = {
        name: sorted(n for n in public_names(path) if not n.isupper() and n not in code)
        for name, path in modules().items()
    }
    assert not {name: names for name, names in missing.items() if names}
