"""The layers of sim/ are a contract that CI checks (docs/architecture.md).

`lint-imports` runs on a copy of the package: it keeps every contract as committed, and
a deliberately wrong import (one that reaches up a layer, joins two independent layers
or closes a circle) breaks the contract that names it.
"""

import ast
import os
import shutil
import subprocess
import sys

import importlinter  # noqa: F401  (in the test extra: missing is a failure, never a skip)
import pytest

from tests.conftest import ROOT

LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


@pytest.fixture
def tree(tmp_path):
    """A copy of the package and its contracts, where imports can be broken safely."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("cli.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def lint_imports(tree):
    # The copy comes first on the path, ahead of the installed (editable) package.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", LINT_IMPORTS, "--no-cache"]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)


def test_the_committed_tree_keeps_every_contract(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        (
            "sim/engine/model.py",
            "import sim.analysis.plots",
            ["sim/ is layered", "sim.engine.model -> sim.analysis.plots"],
        ),
        (
            "sim/analysis/plots.py",
            "import sim.seminar.transcript",
            ["sim/ is layered", "sim.analysis is not allowed to import sim.seminar"],
        ),
        (
            "sim/batch/runner.py",
            "import sim.analysis.plots",
            ["A batch writes its results", "sim.batch.runner -> sim.analysis.plots"],
        ),
        (
            "sim/seminar/game.py",
            "import sim.classroom.room",
            ["sim/ is layered", "sim.seminar.game -> sim.classroom.room"],
        ),
        (
            "sim/classroom/room.py",
            "import sim.analysis.plots",
            ["reads no batch analysis", "sim.classroom.room -> sim.analysis.plots"],
        ),
        (
            "sim/batch/options.py",
            "import sim.batch.runner",
            ["No cycles are allowed in sim.batch", ".options -> .runner"],
        ),
        (
            "sim/engine/model.py",
            "from sim import load",
            ["imports the package root", "sim.engine.model -> sim "],
        ),
    ],
)
def test_a_wrong_import_breaks_the_contract_that_names_it(tree, module, wrong_import, broken):
    path = tree / module
    path.write_text(path.read_text() + f"\n{wrong_import}  # deliberately wrong\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout.split("Broken contracts", 1)[1]
    for fragment in broken:
        assert fragment in report, (fragment, report)


def test_every_subpackage_says_what_it_may_import():
    for init in sorted((ROOT / "sim").glob("*/__init__.py")):
        tree = ast.parse(init.read_text())
        docstring = ast.get_docstring(tree)
        assert docstring and "May import" in docstring, init
        # Nothing but the docstring: importing a layer loads none of its modules.
        assert len(tree.body) == 1, init


def test_ci_runs_the_readme_test_command_with_lint_imports():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    shown = readme.split('pip install -e ".[test]" && ', 1)[1].split("\n", 1)[0]
    run = ci.split('pip install -q -e ".[test]" && ', 1)[1].split("\n", 1)[0]
    assert shown == run == "ruff check . && lint-imports && pytest -q"
