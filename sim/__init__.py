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
"""

__version__ = "0.1.0"

from sim.batch import BatchOptions, run_batch
from sim.compare import Comparison, compare
from sim.compiled import CompiledScenario, compile_text, load
from sim.designs import Design, make_design, sweep
from sim.errors import (
    OptionsError,
    ResultsError,
    ScenarioError,
    ScenarioRuntimeError,
    WargameError,
)
from sim.explain import explain
from sim.model import WargameModel, play
from sim.report import report
from sim.results import Results, load_results

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
    "make_design",
    "play",
    "report",
    "run_batch",
    "sweep",
]
