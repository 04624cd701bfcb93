"""wargame: a scenario wargaming simulator for geopolitical crises.

State actors are Mesa agents with explicit payoff rules; a YAML scenario says what they
want, what they can do and what happens to them. The engine plays a block of runs at
once (numpy arrays of shape (runs,)), so one game in a seminar and a million in a batch
are the same code.

Typical use from Python::

    from sim import load, BatchOptions, run_batch
    compiled = load("scenarios/alaska.yaml")
    results = run_batch(compiled, "results/alaska-demo", BatchOptions(runs=10_000, seed=1))
    print(results.summary["endings"])
    frame = results.runs()          # a pandas DataFrame, one row per run

The package is split by layer (language, engine, batch, analysis, seminar; see
docs/architecture.md). This module only names the public API: each name is imported
from the layer that defines it on first use.
"""

from typing import TYPE_CHECKING, Any

from sim.errors import (
    OptionsError,
    ResultsError,
    ScenarioError,
    ScenarioRuntimeError,
    WargameError,
)
from sim.version import __version__

# The API is imported on first use, so `wargame --help` and shell completion do not
# pay for Mesa, pandas and scipy. Name -> module that defines it.
_LAZY = {
    "BatchOptions": "sim.batch.options",
    "run_batch": "sim.api",
    "Comparison": "sim.analysis.comparison",
    "compare": "sim.analysis.comparison",
    "write_comparison": "sim.analysis.comparefolder",
    "CompiledScenario": "sim.language.compiler",
    "compile_text": "sim.language.compiler",
    "load": "sim.engine.loading",
    "load_text": "sim.engine.loading",
    "Design": "sim.batch.designs",
    "make_design": "sim.batch.designs",
    "sweep": "sim.api",
    "explain": "sim.analysis.explanation",
    "WargameModel": "sim.engine.model",
    "play": "sim.engine.model",
    "report": "sim.analysis.reports",
    "Results": "sim.batch.results",
    "load_results": "sim.batch.results",
}

if TYPE_CHECKING:
    from sim.analysis.comparefolder import write_comparison
    from sim.analysis.comparison import Comparison, compare
    from sim.analysis.explanation import explain
    from sim.analysis.reports import report
    from sim.api import run_batch, sweep
    from sim.batch.designs import Design, make_design
    from sim.batch.options import BatchOptions
    from sim.batch.results import Results, load_results
    from sim.engine.loading import load, load_text
    from sim.engine.model import WargameModel, play
    from sim.language.compiler import CompiledScenario, compile_text


def __getattr__(name: str) -> Any:
    """Import an API name from its module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BatchOptions",
    "Comparison",
    "CompiledScenario",
    "Design",
    "OptionsError",
    "Results",
    "ResultsError",
    "ScenarioError",
    "ScenarioRuntimeError",
    "WargameError",
    "WargameModel",
    "__version__",
    "compare",
    "compile_text",
    "explain",
    "load",
    "load_results",
    "load_text",
    "make_design",
    "play",
    "report",
    "run_batch",
    "sweep",
    "write_comparison",
]
