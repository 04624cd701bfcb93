"""Explaining a batch: what drives each ending, branch outcome or condition.

For every *outcome* (an ending, an outcome of a branch, or any condition on a run's
recorded values: :mod:`sim.analysis.outcomes`) this module answers, from a finished
batch:

1. **Which inputs drive it?** Each uncertain parameter and, where the batch recorded
   them, each move of each actor in each round (:mod:`sim.analysis.inputs`) is scored
   by its mutual information with the outcome and tested by a permutation test with
   Holm's adjustment (:mod:`sim.analysis.ranking`); only the inputs that survive are
   called drivers, each with its effect in percentage points (high end against low
   end, move made against not made) and a 95% interval.
2. **How big is each parameter's effect, really?** With ``measure=True`` each
   parameter is played at the low and high end of its range on the same runs
   (:mod:`sim.analysis.effects`): changes measured run by run, with intervals; the
   drivers among the parameters and the tornado charts then come from these, and a
   parameter that changes nothing is reported as a dead claim.
3. **What simple rule describes it?** PRIM scenario discovery
   (:mod:`sim.analysis.discovery`) finds a box such as "crisis in 98% of runs where
   pressure ≥ 0.69, covering 100% of crisis runs", keeps each restriction only if its
   quasi-p-value says chance could not have made it, says how often each restriction
   comes back on random halves of the runs, and looks for a second box among the runs
   the first leaves.
4. **How much of its variance do the parameters explain?** On a Sobol sweep, the
   share of the outcome's variance the parameters explain at all, and first-order,
   total and second-order indices with 95% intervals (:mod:`sim.analysis.sensitivity`).

Results go to ``DIR/explain/``: ``explain.json``, one ``tornado_<outcome>.png`` and
one ``prim_<outcome>.png`` (the peeling trajectory) per outcome.
"""

from __future__ import annotations

import copy
import json
import math
import re
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.discovery import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_SUPPORT,
    MAX_QUASI_P,
    MAX_RESTRICTIONS,
    RESAMPLES,
    density_floor,
    prim,
    resample_stability,
)
from sim.analysis.explainpool import helper_processes
from sim.analysis.inputs import Inputs, read_inputs
from sim.analysis.outcomes import Condition, outcome_targets
from sim.analysis.ranking import DEFAULT_ALPHA as DRIVER_ALPHA
from sim.analysis.ranking import (
    PERMUTATIONS,
    entropy_bits,
    mutual_information,
    rank_inputs,
)
from sim.analysis.sensitivity import (
    MIN_INFORMATIVE,
    SOBOL_RESAMPLES,
    salib_sobol,
    stochastic_sobol,
)
from sim.batch.options import Progress
from sim.batch.outputs import EXPLAIN_FILES, OutputKind, prepare_output_folder
from sim.batch.results import Results, atomic_write_json
from sim.errors import OptionsError, ResultsError

__all__ = [
    "current_explanation",
    "entropy_bits",
    "explain",
    "load_explanation",
    "mutual_information",
    "narrow_scope",
    "sobol_indices",
]

#: Above this many runs, ranking and PRIM use a fixed random subset (Sobol uses all;
#: on a Sobol sweep, ranking and PRIM use only its independent rows).
MAX_ANALYSED_RUNS = 200_000
EXPLAIN_FORMAT = "wargame-explain/2"
RULE_INPUTS = ("parameters", "decisions", "both")
#: A second box is reported only if it holds at least this share of the outcome's runs.
SECOND_BOX_SHARE = 0.05

METHODS = {
    "ranking": (
        "Inputs: the uncertain parameters and, where the batch recorded choices, each "
        "actor's move in each round. Score: mutual information (bits) with the "
        "outcome less its chance level (k-1)/(2n ln 2); numeric parameters in "
        "equal-frequency bins. Test: permutation test (exact for two-level inputs; "
        f"{PERMUTATIONS} permutations otherwise, mutual information and rank trend "
        f"combined by min-P), Holm-adjusted at {DRIVER_ALPHA:.0%} per outcome, "
        "separately for parameters and moves; only inputs that pass are drivers. The "
        "test sees a link of any shape, so an input rising then falling can drive an "
        "outcome while its ends differ little. "
        "Effect: P(outcome) in the parameter's highest fifth minus its lowest fifth "
        "(yes/no: 1 minus 0; categorical: most minus least favourable value; a move: "
        "made minus not made), with a 95% Newcombe interval. A move is played inside "
        "the game: it can cause the outcome or follow from what caused it; a branch's "
        "outcome is set against the moves up to the branch's round only."
    ),
    "measured": (
        "Each parameter fixed at the low and the high end of its range (categorical: "
        "each value) on the same runs at the batch's seed (common random numbers); "
        "change in each outcome's probability with a 95% interval from the paired "
        "differences; exact sign test (Cochran's Q for several values), Holm-adjusted "
        "over the parameters per outcome at 5%. Dead: changes no ending and no branch "
        "outcome in any run. Each actor that reasons is played as a myopic actor on the "
        "same runs in the same way (change: as written minus myopic; Holm over the actors)."
    ),
    "tornado": (
        "Each bar spans the outcome's probability with the parameter at its low and "
        "at its high end: measured on paired runs when --measure was given (whiskers: "
        "95% intervals), otherwise among runs with the parameter in its lowest and "
        "highest fifth (categorical: its least and most favourable value). The line "
        "is the probability over all runs; faded bars are not significant."
    ),
    "rule": (
        "PRIM scenario discovery, as in the EMA Workbench: peel alpha of the box's runs "
        "per step (the peel that gains the most density per run removed), and stop when "
        "the best peel would leave less than the minimum support or would not raise the "
        "density; take the box with the highest weighted relative accuracy, support × "
        "(density − base rate), or the one named by --box; test each of its limits (a "
        "numeric parameter's lower and upper bound separately) by its quasi-p-value and "
        f"drop those above {MAX_QUASI_P:g}, the weakest first, testing the rest again "
        f"(at most {MAX_RESTRICTIONS} parameters kept). "
        "Coverage: share of the outcome's runs inside the box; density: share of the "
        "box's runs with the outcome. Stability: share of random halves of the runs "
        f"({RESAMPLES}) whose rule restricts the same input. A box is reported as a "
        "rule only if its density is clearly above the base rate (95% interval above "
        "it, and at least 2 points or a tenth more). A second box is sought among the "
        "runs outside the first."
    ),
    "sobol": (
        "Sobol indices of each outcome's 0/1 indicator, as shares of its variance: "
        "explained = Var(P(outcome | parameters)) / Var, the part the swept parameters "
        "explain at all (the rest is the game's own chance and the unswept "
        "parameters); S1 first-order, ST total, S2 second-order. The rows of a base "
        "sample share their game chance and products cross independent replicates, so "
        "chance does not enter the indices; 95% intervals from "
        f"{SOBOL_RESAMPLES} bootstrap resamples of the base samples. Each estimate is a "
        "mean over base samples of terms that are zero unless the sample's rows end "
        "differently; where fewer than "
        f"{MIN_INFORMATIVE} samples are informative (a rare outcome, a parameter that "
        "rarely changes it) the interval runs from 0 to the most the index can be given "
        "that count (a Clopper-Pearson bound on the share of informative samples times "
        "the largest a term can be, chained so S1 ≤ ST ≤ explained), marked *. The "
        "indices satisfy S1 ≤ ST ≤ explained; their estimates, from different base "
        "samples, can cross."
    ),
}


# --- pieces -----------------------------------------------------------------------------


def sobol_indices(
    frame: pd.DataFrame, design: dict[str, Any], targets: list[dict[str, Any]], seed: int
) -> dict[str, Any]:
    """Sobol indices of each outcome from a Saltelli sweep (see :mod:`.sensitivity`).

    Args:
        frame: All runs of the sweep, in run order.
        design: The manifest's ``design`` entry (kind ``sobol``).
        targets: The outcomes (with their 0/1 arrays over all runs).
        seed: Seed of the bootstrap.

    Returns:
        ``{"params", "n", "runs", "replicates", "randomness", "targets": {outcome id:
        indices or None}}``.

    Raises:
        ResultsError: If the runs do not match the design.
    """
    from sim.batch.designs import SHARED_RANDOMNESS

    names = list(design["params"])
    d, n = len(names), int(design["n"])
    replicates = int(design.get("replicates", 1))
    second = bool(design.get("second_order", True))
    expected = n * (2 * d + 2 if second else d + 2) * replicates
    if len(frame) != expected or not second:
        raise ResultsError(
            f"the sobol design needs {expected:,} runs (N={n}, D={d}), the batch has {len(frame):,}"
        )
    shared = design.get("randomness") == SHARED_RANDOMNESS
    found: dict[str, Any] = {}
    for target in targets:
        y = target["outcome"].astype(float)
        if shared:
            found[target["id"]] = stochastic_sobol(y, names, n, replicates, seed=seed)
        else:
            found[target["id"]] = salib_sobol(y, names, seed=seed)
    return {
        "params": names,
        "n": n,
        "runs": expected,
        "replicates": replicates,
        "randomness": design.get("randomness", "per run"),
        "targets": found,
    }


def _rule(
    inputs: Inputs,
    outcome: np.ndarray,
    title: str,
    *,
    rule_inputs: str,
    alpha: float,
    min_support: float,
    select: int | None,
    resamples: int,
    seed: int,
    helpers: Executor | None = None,
    pending: list[Pending] | None = None,
) -> dict[str, Any]:
    """PRIM's box for one outcome, with its tests, stability and the sentence stating it.

    With ``helpers`` (and a ``pending`` list), the resamples behind the stability are
    sent to them: (rule, future, the call) is appended to ``pending`` (see
    :func:`_collect_stability`).

    A box counts as a rule only if it is *clearly* denser than the base rate: the lower
    end of its density's 95% interval is above the base rate and the density exceeds it
    by at least 2 points or a tenth of it, whichever is more.
    """
    numeric, categorical = inputs.prim_inputs(
        decisions=rule_inputs in ("decisions", "both"),
        parameters=rule_inputs in ("parameters", "both"),
    )
    options = {"alpha": alpha, "min_support": min_support}
    try:
        found = prim(numeric, categorical, outcome, select=select, second_box=True, **options)
    except IndexError as exc:
        raise OptionsError(f"--box: {exc}") from None
    data = found.as_json()
    data.update(_judge(found.box, found.base_density, title))
    if resamples and found.box.restrictions:
        arguments = (numeric, categorical, outcome)
        settings = {"resamples": resamples, "seed": seed, **options}
        # Placeholders keep the keys where they stand once the stability is known.
        data["stability"] = None
        data["resamples"] = resamples
        for restriction in data["box"]["restrictions"]:
            restriction["stability"] = None
        if helpers is not None and pending is not None:
            # The same halves and the same numbers, counted by a helper process while
            # this one goes on with the next outcome.
            future = helpers.submit(resample_stability, *arguments, **settings)
            pending.append((data, future, arguments, settings))
        else:
            _fill_stability(data, resample_stability(*arguments, **settings))
    if found.second is not None:
        second = _judge(found.second.box, found.second.base_density, title, outside=True)
        # A second box worth naming holds a real share of the outcome's runs, not the
        # few the first box's edges left out.
        left = int(outcome.sum()) - round(found.box.coverage * int(outcome.sum()))
        share = found.second.box.coverage * left / max(int(outcome.sum()), 1)
        second["clear"] = second["clear"] and share >= SECOND_BOX_SHARE
        second["share_of_outcome"] = share
        data["second"].update(second)
    data["inputs"] = rule_inputs
    return data


#: A rule waiting for its stability: (rule, the helpers' future, arguments, settings).
Pending = tuple[dict[str, Any], "Future[Any]", tuple[Any, ...], dict[str, Any]]


def _collect_stability(pending: list[Pending]) -> None:
    """Write each pending rule's stability, counting here what no helper has started.

    The helpers take their tasks first come, first served; once this process has
    ranked and peeled every outcome it is idle, so it takes the last resamples still
    waiting (from the end, while the helpers work from the start): the same numbers,
    counted by whichever process is free.
    """
    for rule, future, arguments, settings in reversed(pending):
        if not future.cancel():
            break  # started, and so is every earlier one
        _fill_stability(rule, resample_stability(*arguments, **settings))
    for rule, future, _, _ in pending:
        if not future.cancelled():
            _fill_stability(rule, future.result())


def _fill_stability(data: dict[str, Any], stability: dict[str, float]) -> None:
    """Write a rule's stability (parameter -> share of resamples) into its placeholders."""
    data["stability"] = stability
    for restriction in data["box"]["restrictions"]:
        restriction["stability"] = stability.get(restriction["parameter"], 0.0)


def _judge(box: Any, base: float, title: str, outside: bool = False) -> dict[str, Any]:
    """Whether a box is clearly denser than its base rate, and the sentence saying so."""
    lift = max(0.02, 0.1 * base)
    clear = bool(box.restrictions and density_floor(box) > base and box.density - base >= lift)
    where = " and ".join(r.text() for r in box.restrictions)
    among = " among the runs outside the first box" if outside else ""
    # Density and base rate to a tenth of a point, as P is printed: "13% against 11%"
    # can be 12.6% against 10.5%.
    if clear:
        text = (
            f"{title} in {box.density:.1%} of runs where {where}{among}, covering "
            f"{box.coverage:.0%} of {title} runs{' left' if outside else ''} "
            f"({box.support:.0%} of {'those' if outside else 'all'} runs are in the box; "
            f"base rate {base:.1%})."
        )
    elif box.restrictions:
        text = (
            f"No rule for {title}{among}: the best box found ({where}) has it in "
            f"{box.density:.1%} of runs against a base rate of {base:.1%}, covering "
            f"{box.coverage:.0%} of {title} runs; a rule needs the lower end of its "
            f"density's 95% interval above the base rate and {100 * lift:.1f} points more."
        )
    else:
        text = (
            f"No rule for {title}{among}: no box of inputs whose limits pass the quasi-p "
            f"test is denser than the base rate of {base:.1%}."
        )
    return {"clear": clear, "text": text}


def _merge_measured(
    ranking: list[dict[str, Any]], measured: dict[str, Any], outcome_id: str
) -> None:
    """Give each parameter's row its measured effect; drivers among parameters follow it."""
    for row in ranking:
        if row["kind"] != "parameter":
            continue
        entry = measured["parameters"].get(row["input"])
        if entry is None:
            continue
        found = entry["outcomes"].get(outcome_id)
        if found is None:
            continue
        row["measured"] = {**found, "dead": entry["dead"], "context_only": entry["context_only"]}
        row["significant"] = bool(found["significant"])
    ranking.sort(key=lambda r: (not r["significant"], -r["mi_excess_bits"], r["input"]))
    for rank, row in enumerate(ranking, start=1):
        row["rank"] = rank


def _read(
    results: Results, condition: Condition | None, decisions: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """The runs (only the columns explain reads), and the rounds and choices it needs."""
    import pyarrow.parquet as pq

    results.runs_table(columns=["run"])  # a finished, readable batch, or a ResultsError
    names = pq.read_schema(results.folder / "runs.parquet").names
    rounds_count = int(results.layout.get("rounds") or 0)
    if condition is not None:
        condition.check_against(names, rounds_count)
        condition.check_values(results.layout)
    wanted = [c for c in names if c in ("run", "ending") or c.startswith(("param.", "branch."))]
    if condition is not None:
        wanted += [c for c in condition.runs_columns() if c not in wanted]
    frame = results.runs(columns=wanted)
    if "run" in frame.columns:
        frame = frame.sort_values("run", kind="stable").reset_index(drop=True)
    rounds = None
    if condition is not None and condition.rounds_columns():
        rounds = results.rounds(columns=["run", "round", *condition.rounds_columns()])
    choices = None
    # A batch that kept its rounds kept its choices (checked against the manifest).
    if decisions and results.manifest.get("keep_rounds"):
        choices = results.choices()
    return frame, rounds, choices


#: What explain writes into its folder (the rule of :mod:`sim.batch.outputs`).
EXPLAIN_OUTPUT = OutputKind(
    "explain",
    "explain.json",
    EXPLAIN_FILES,
    inside="explain",
)


def _prepare_out(target_dir: Path, force: bool, inputs: list[Path]) -> None:
    """Make ``target_dir`` ready for explain's files without overwriting anyone's.

    A new folder, the batch's own ``explain/`` or an earlier explanation (its charts
    are replaced) is fine; a folder holding other files needs ``force`` (and nothing in
    it is deleted); a results folder, or a folder inside another batch's, never.

    Raises:
        ResultsError: If ``target_dir`` may not be written.
    """
    prepare_output_folder(
        target_dir,
        EXPLAIN_OUTPUT,
        inputs=inputs,
        force=force,
        is_ours=_is_explanation(target_dir / "explain.json"),
    )


def _is_explanation(path: Path) -> bool:
    try:
        return str(json.loads(path.read_text("utf-8")).get("format", "")).startswith(
            "wargame-explain/"
        )
    except (OSError, ValueError, AttributeError):
        return False


# --- the analysis -------------------------------------------------------------------------


def explain(
    folder: str | Path,
    *,
    ending: str | None = None,
    branch: str | None = None,
    outcome: str | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    plots: bool = True,
    measure: bool = False,
    measure_runs: int | None = None,
    workers: int = 1,
    decisions: bool = True,
    rule_inputs: str = "parameters",
    alpha: float = DEFAULT_ALPHA,
    min_support: float = DEFAULT_MIN_SUPPORT,
    select: int | None = None,
    resamples: int = RESAMPLES,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Explain what drives each ending, branch outcome or condition of a batch.

    Args:
        folder: A finished results folder.
        ending: Explain only this ending.
        branch: Only this branch's outcomes.
        outcome: Only this condition, e.g. ``"metric.ru_manpower_gap_k > 150"`` or
            ``"metric.tension[any] >= 8"`` (see :mod:`sim.analysis.outcomes`).
        out: Where to write explain.json and the charts (default ``DIR/explain``).
        seed: Seed of the permutations, the subset, the resamples and the bootstrap.
        plots: Draw the tornado and peeling-trajectory charts.
        measure: Measure each parameter's effect on paired runs (see
            :mod:`sim.analysis.effects`).
        measure_runs: Paired runs per variant (default 2,000, at most the batch's).
        workers: Worker processes for the measured runs.
        decisions: Rank the actors' moves too, where the batch recorded them.
        rule_inputs: What PRIM's boxes may restrict: ``parameters``, ``decisions``
            or ``both``.
        alpha: PRIM's peel: share of the box's runs cut away per step.
        min_support: PRIM stops peeling before the box would hold less than this share
            of the runs (or when no peel raises its density).
        select: Take box ``select`` of the peeling trajectory instead of the best one
            (needs a single outcome).
        resamples: Random halves of the runs behind each rule's stability (0: none).
        force: Write into ``out`` even if it holds files explain did not write.
        progress: Called with (runs played, runs in all) as ``measure`` plays.

    Returns:
        The explanation (also written to ``explain.json``): the methods, and per
        outcome its ranking, rule, charts, measured effects and Sobol indices.

    Raises:
        ResultsError: If the folder is not a finished batch, or ``out`` holds
            someone's files.
        OptionsError: For an unknown ending, branch or condition, or bad settings.

    Example:
        >>> found = explain("results/alaska-7", ending="wider_war")  # doctest: +SKIP
        >>> print(found["targets"][0]["rule"]["text"])  # doctest: +SKIP
    """
    if not 0 < alpha < 0.5:
        raise OptionsError("--alpha (the share peeled per step) must be between 0 and 0.5")
    if not 0 < min_support < 1:
        raise OptionsError("--min-support must be between 0 and 1")
    if rule_inputs not in RULE_INPUTS:
        raise OptionsError(f"--rule-inputs must be one of {', '.join(RULE_INPUTS)}")
    if resamples < 0:
        raise OptionsError("--resamples must be 0 or more")
    condition = Condition(outcome) if outcome is not None else None
    results = Results(folder)
    layout = results.layout
    target_dir = Path(out) if out is not None else results.folder / "explain"
    frame, rounds, choices = _read(results, condition, decisions or rule_inputs != "parameters")
    if rule_inputs != "parameters" and choices is None:
        raise OptionsError(
            f"--rule-inputs {rule_inputs}: {results.folder} kept no choices (run without "
            "--no-rounds)"
        )
    targets = outcome_targets(frame, layout, ending, branch, condition, rounds)
    if condition is not None:
        # A condition on a parameter the batch held fixed (--set, or fixed in the file)
        # "never happens" for a reason the reader should be told.
        overrides = results.manifest.get("overrides") or {}
        fixed = {
            column: (float(frame[column].iloc[0]), column[len("param.") :] in overrides)
            for column in condition.runs_columns()
            if column.startswith("param.") and len(frame) and frame[column].nunique() == 1
        }
        for target in targets:
            if target["kind"] == "condition":
                target["fixed"] = fixed
    if select is not None and len(targets) != 1:
        raise OptionsError(
            "--box picks a box of one outcome's peeling: name one with --ending, --branch "
            "or --outcome (and a branch with one outcome is two)"
        )
    design = results.manifest.get("design")
    sobol = None
    if design and design.get("kind") == "sobol":
        sobol = sobol_indices(frame, design, targets, seed)
    # Tests that treat runs as exchangeable need runs drawn independently: in a Sobol
    # sweep, one row per base sample and replicate (see independent_runs).
    from sim.batch.designs import independent_rows_text, independent_runs

    chosen = np.flatnonzero(independent_runs(design, frame["run"].to_numpy()))
    if len(chosen) > MAX_ANALYSED_RUNS:
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(chosen, MAX_ANALYSED_RUNS, replace=False))
    if len(chosen) == len(frame):
        chosen = None
    analysed = frame if chosen is None else frame.iloc[chosen].reset_index(drop=True)
    for target in targets:
        target["analysed"] = target["outcome"] if chosen is None else target["outcome"][chosen]
        until = target.get("resolved_round")
        target["analysed_until"] = until if until is None or chosen is None else until[chosen]
    if choices is not None and chosen is not None:
        choices = choices[choices["run"].isin(analysed["run"])]
    inputs = read_inputs(analysed, layout, choices)
    measured = None
    if measure:
        measured = _measure_effects(results, targets, measure_runs, condition, workers, progress)
    _prepare_out(target_dir, force, [results.folder])
    explained = []
    drawing: list[tuple[dict[str, Any], str, Future[Any]]] = []
    pending: list[Pending] = []
    with helper_processes(plots, len(targets)) as helpers:
        for target in targets:
            explained.append(
                _explain_target(
                    target,
                    inputs,
                    decisions,
                    measured,
                    sobol,
                    target_dir if plots else None,
                    helpers=helpers,
                    drawing=drawing,
                    pending=pending,
                    rule_inputs=rule_inputs,
                    alpha=alpha,
                    min_support=min_support,
                    select=select,
                    resamples=resamples,
                    seed=seed,
                )
            )
        _collect_stability(pending)
        for entry, key, chart in drawing:
            # A tornado chart is not drawn when no parameter varies: no file to name.
            if chart.result() is False:
                del entry[key]
    manifest = results.manifest
    found: dict[str, Any] = {
        "format": EXPLAIN_FORMAT,
        "batch": {
            "folder": str(results.folder),
            "scenario": manifest["scenario"]["id"],
            "title": manifest["scenario"]["title"],
            "sha256": manifest["scenario"]["sha256"],
            "seed": manifest["seed"],
            "runs": manifest["runs"],
            "finished": manifest.get("finished"),
            "design": design,
        },
        "scope": {"ending": ending, "branch": branch, "outcome": outcome},
        "settings": {
            "alpha": alpha,
            "min_support": min_support,
            "rule_inputs": rule_inputs,
            "box": select,
            "resamples": resamples,
            "decisions": decisions,
        },
        "runs_analysed": len(analysed),
        "independent_rows_only": bool(design and design.get("kind") == "sobol"),
        "independent_rows": independent_rows_text(design),
        "parameters": inputs.names,
        "constant_parameters": inputs.constant,
        "choices_kept": inputs.choices_kept,
        "bins": inputs.bins,
        "methods": {
            k: v
            for k, v in METHODS.items()
            if (k != "sobol" or sobol is not None) and (k != "measured" or measured is not None)
        },
        "targets": explained,
    }
    if sobol is not None:
        found["sobol"] = {k: v for k, v in sobol.items() if k != "targets"}
    if measured is not None:
        found["measured"] = {
            "runs": measured["runs"],
            "seed": measured["seed"],
            "overrides": measured["overrides"],
            "parameters": {
                name: {k: v for k, v in entry.items() if k != "outcomes"}
                for name, entry in measured["parameters"].items()
            },
            "reasoning": measured["reasoning"],
            "dead": [n for n, e in measured["parameters"].items() if e["dead"]],
            "not_measurable": [
                n
                for n, e in measured["parameters"].items()
                if not e["dead"] and not e["measurable"]
            ],
        }
    plain = _plain(found)
    atomic_write_json(target_dir / "explain.json", plain)
    return plain


def _measure_effects(
    results: Results,
    targets: list[dict[str, Any]],
    runs: int | None,
    condition: Condition | None,
    workers: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Measured effects of every parameter on the targets (:mod:`sim.analysis.effects`)."""
    from sim.analysis.effects import measure_effects

    return measure_effects(
        results, targets, runs=runs, condition=condition, workers=workers, progress=progress
    )


def _explain_target(
    target: dict[str, Any],
    inputs: Inputs,
    decisions: bool,
    measured: dict[str, Any] | None,
    sobol: dict[str, Any] | None,
    charts: Path | None,
    helpers: Executor | None = None,
    drawing: list[tuple[dict[str, Any], str, Future[Any]]] | None = None,
    pending: list[Pending] | None = None,
    **rule_options: Any,
) -> dict[str, Any]:
    """One outcome's entry of the explanation (charts drawn into ``charts``).

    With ``helpers``, the charts are sent to them and each (entry, key, future) is
    appended to ``drawing`` (a tornado chart's key stays only if it was drawn), and so
    are the rule's resamples (see :func:`_rule`, ``pending``).
    """
    outcome = np.asarray(target["analysed"], dtype=bool)
    count = int(outcome.sum())
    entry: dict[str, Any] = {
        "kind": target["kind"],
        "id": target["id"],
        "title": target["title"],
        "runs": len(outcome),
        "count": count,
        "p": count / len(outcome) if len(outcome) else 0.0,
    }
    nothing = not inputs.names and not inputs.decisions
    if count == 0 or count == len(outcome) or nothing:
        entry["note"] = (
            "no input varies in this batch"
            if nothing
            else ("never happens" if count == 0 else "happens in every run")
            + " in this batch: nothing to explain"
        )
        fixed = target.get("fixed") or {}
        if fixed and not nothing:
            entry["note"] += (
                " ("
                + "; ".join(
                    f"{name} is {value:g} in every run"
                    + (
                        f", set by --set {name[len('param.') :]}"
                        if by_set
                        else ", fixed in the file"
                    )
                    for name, (value, by_set) in fixed.items()
                )
                + ")"
            )
    else:
        features = inputs.parameter_features()
        if decisions:
            features += inputs.decision_features(
                outcome, target.get("last_round"), target.get("analysed_until")
            )
        entry["ranking"] = rank_inputs(features, outcome, seed=rule_options["seed"])
        if measured is not None:
            _merge_measured(entry["ranking"], measured, target["id"])
        entry["drivers"] = [r["input"] for r in entry["ranking"] if r["significant"]]
        phrase = target["title"] if target["kind"] == "ending" else f"“{target['title']}”"
        entry["rule"] = _rule(
            inputs, outcome, phrase, helpers=helpers, pending=pending, **rule_options
        )
        if charts is not None and helpers is not None and drawing is not None:
            from sim.analysis.explainplots import tornado_chart, trajectory_chart

            snapshot = _chart_data(entry)
            name = f"tornado_{_safe(target['file_id'])}.png"
            drawn = helpers.submit(tornado_chart, snapshot, charts / name, measured)
            drawing.append((entry, "tornado", drawn))
            entry["tornado"] = name
            name = f"prim_{_safe(target['file_id'])}.png"
            drawn = helpers.submit(trajectory_chart, snapshot, charts / name)
            drawing.append((entry, "trajectory", drawn))
            entry["trajectory"] = name
        elif charts is not None:
            from sim.analysis.explainplots import tornado_chart, trajectory_chart

            name = f"tornado_{_safe(target['file_id'])}.png"
            if tornado_chart(entry, charts / name, measured):
                entry["tornado"] = name
            name = f"prim_{_safe(target['file_id'])}.png"
            trajectory_chart(entry, charts / name)
            entry["trajectory"] = name
    if measured is not None:
        entry["measured"] = {
            "baseline": measured["baseline"].get(target["id"]),
            "parameters": {
                name: e["outcomes"][target["id"]] for name, e in measured["parameters"].items()
            },
        }
    if sobol is not None:
        entry["sobol"] = sobol["targets"].get(target["id"])
    return entry


def _chart_data(entry: dict[str, Any]) -> dict[str, Any]:
    """What the charts read of an outcome's entry, copied for a helper process.

    A copy, because the entry grows (its rule's stability) while the copy may still be
    on its way; only the parameters' rows of the ranking, not every move's.
    """
    chart = {k: entry[k] for k in ("id", "title", "p")}
    chart["ranking"] = copy.deepcopy([r for r in entry["ranking"] if r["kind"] == "parameter"])
    chart["rule"] = copy.deepcopy(entry["rule"])
    return chart


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _plain(value: Any) -> Any:
    """JSON-ready copy (numpy scalars to Python numbers, NaN to None)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def load_explanation(folder: str | Path) -> dict[str, Any] | None:
    """The explanation written by :func:`explain` for a batch, if it is current.

    Returns:
        The explanation, or ``None`` when there is none, it covers only some outcomes
        (``--ending``/``--branch``/``--outcome``), or it was made for another batch
        (another scenario text, seed, size or finish time) or by an older version.
    """
    found = current_explanation(folder)
    return found if found is not None and narrow_scope(found) is None else None


def narrow_scope(found: dict[str, Any]) -> str | None:
    """What an explanation of only some outcomes covers (``--outcome X``), else None.

    A report explains every outcome: it keeps such an explanation as it is and says so.
    """
    scope = found.get("scope") or {}
    for key in ("ending", "branch", "outcome"):
        if scope.get(key) is not None:
            return f"--{key} {scope[key]}"
    return None


def current_explanation(folder: str | Path) -> dict[str, Any] | None:
    """The explanation in a batch's ``explain/``, of any scope, if made for this batch."""
    results = Results(folder)
    path = results.folder / "explain" / "explain.json"
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    batch = found.get("batch", {})
    manifest = results.manifest
    current = (
        found.get("format") == EXPLAIN_FORMAT
        and batch.get("sha256") == manifest["scenario"]["sha256"]
        and batch.get("seed") == manifest["seed"]
        and batch.get("runs") == manifest["runs"]
        and batch.get("finished") == manifest.get("finished")
    )
    return found if current else None
