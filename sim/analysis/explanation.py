"""Explaining a batch: which uncertain parameters drive each ending and branch outcome.

For every *outcome* (an ending, or one outcome of a branch) this module answers three
questions from the runs of a finished batch:

1. **Which parameters matter most?** Each parameter (the ``param.*`` columns of
   runs.parquet) is scored by its *mutual information* with the outcome: how many bits
   of uncertainty about the outcome knowing the parameter removes. Numeric parameters
   are cut into equal-frequency bins, categorical ones are taken value by value. A
   score is only worth reading above the *noise floor*: the 95th percentile of the same
   score when the outcome is shuffled at random (a permutation test). A standardised
   logistic-regression coefficient (every parameter scaled to unit sd) gives each
   parameter's direction. A tornado chart shows how much the outcome's probability
   moves between the lowest and the highest fifth of each parameter.
2. **What simple rule describes it?** PRIM scenario discovery (:mod:`sim.analysis.discovery`)
   finds a box such as "crisis in 98% of runs where pressure ≥ 0.69, covering 100% of
   crisis runs".
3. **How much of its variance does each parameter explain?** On a Sobol sweep
   (``wargame sweep --design sobol``), first-order and total Sobol indices with 95%
   confidence intervals (SALib), for each outcome's indicator.

Results go to ``DIR/explain/``: ``explain.json`` and one ``tornado_<outcome>.png`` per
outcome.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.discovery import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_SUPPORT,
    density_floor,
    number_text,
    prim,
)
from sim.batch.results import Results, atomic_write_json
from sim.errors import OptionsError, ResultsError

#: Above this many runs, ranking and PRIM use a fixed random subset (Sobol uses all).
MAX_ANALYSED_RUNS = 200_000
#: Random shuffles of the outcome behind the mutual-information noise floor.
PERMUTATIONS = 30
#: The tornado chart shows at most this many parameters.
TORNADO_TOP = 12
#: Bootstrap resamples for the Sobol confidence intervals.
SOBOL_RESAMPLES = 500
EXPLAIN_FORMAT = "wargame-explain/1"

METHODS = {
    "ranking": (
        "Mutual information (bits) between each parameter and the outcome; numeric "
        "parameters in equal-frequency bins, categorical ones by value. Noise floor: "
        f"95th percentile of the same score over {PERMUTATIONS} random permutations of the "
        "outcome. Direction: sign of the standardised logistic-regression coefficient "
        "(L2-penalised, parameters scaled to unit sd, categorical ones one-hot)."
    ),
    "tornado": (
        "Each bar spans the outcome's probability among runs with the parameter in its "
        "lowest fifth and in its highest fifth (categorical: its least and most "
        "favourable value); the line is the probability over all runs."
    ),
    "rule": (
        f"PRIM scenario discovery: peel alpha = {DEFAULT_ALPHA:.0%} of the box per step "
        f"until it holds less than {DEFAULT_MIN_SUPPORT:.0%} of runs; take the box with the "
        "highest weighted relative accuracy, support × (density − base rate); drop "
        "restrictions whose removal lowers density by less than a tenth of the box's lift "
        "(at least 1 point). Coverage: share of the outcome's runs inside the box; density: "
        "share of the box's runs with the outcome. A box is reported as a rule only if its "
        "density is clearly above the base rate (95% interval above it, and at least 2 "
        "points or a tenth more)."
    ),
    "sobol": (
        "Sobol indices of each outcome's 0/1 indicator from the Saltelli design "
        "(SALib.analyze.sobol); S1 first-order, ST total; ± is the half-width of the 95% "
        f"bootstrap confidence interval ({SOBOL_RESAMPLES} resamples). Variation not due "
        "to the swept parameters (the game's own chance, unswept parameters) stays in "
        "1 - sum(S1)."
    ),
}


# --- scores ---------------------------------------------------------------------------


def _bins(n: int) -> int:
    """Equal-frequency bins for a numeric parameter: about n^(1/3), between 4 and 16."""
    return int(min(16, max(4, round(n ** (1 / 3)))))


def bin_codes(values: np.ndarray, bins: int) -> tuple[np.ndarray, int]:
    """Integer codes of values cut into equal-frequency bins (few-valued: by value).

    Args:
        values: Numeric values per run.
        bins: Number of bins wanted.

    Returns:
        (codes per run, number of codes).
    """
    unique = np.unique(values)
    if len(unique) <= bins:
        return np.searchsorted(unique, values), len(unique)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right"), len(edges) + 1


def mutual_information(codes: np.ndarray, k: int, outcome: np.ndarray) -> float:
    """Mutual information in bits between a coded parameter and a 0/1 outcome.

    Args:
        codes: The parameter's bin or category code per run, in 0..k-1.
        k: Number of codes.
        outcome: 0/1 per run.

    Returns:
        I(parameter; outcome) in bits (0 when independent in the sample).
    """
    n = len(codes)
    joint = np.bincount(codes * 2 + outcome, minlength=2 * k).reshape(k, 2) / n
    marginal = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float(np.sum(joint[nonzero] * np.log2(joint[nonzero] / marginal[nonzero])))


def entropy_bits(p: float) -> float:
    """Entropy in bits of a 0/1 outcome with probability p."""
    if p <= 0 or p >= 1:
        return 0.0
    return float(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)))


def logistic_coefficients(
    features: np.ndarray, outcome: np.ndarray, ridge: float = 1.0
) -> np.ndarray:
    """Coefficients of an L2-penalised logistic regression on standardised features.

    The penalty keeps the coefficients finite when a parameter separates the outcome
    perfectly (as a threshold rule does), so they rank and give a direction but are not
    odds ratios to read literally.

    Args:
        features: Shape (n, m), already standardised.
        outcome: 0/1 per run.
        ridge: L2 penalty on the coefficients (not the intercept).

    Returns:
        The m coefficients (intercept left out).
    """
    from scipy.optimize import minimize

    n, m = features.shape
    design = np.column_stack([np.ones(n), features])
    sign = 2.0 * outcome - 1.0
    penalty = np.full(m + 1, ridge)
    penalty[0] = 0.0

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = sign * (design @ w)
        value = np.logaddexp(0.0, -margin).sum() + 0.5 * np.sum(penalty * w * w)
        weight = -sign * np.exp(-np.logaddexp(0.0, margin))  # -s * sigmoid(-margin)
        return float(value), design.T @ weight + penalty * w

    fitted = minimize(loss, np.zeros(m + 1), jac=True, method="L-BFGS-B")
    return fitted.x[1:]


# --- the analysis ---------------------------------------------------------------------


class _Parameters:
    """The batch's varying parameters, coded for scoring, regression and PRIM."""

    def __init__(self, frame: pd.DataFrame, layout: dict[str, Any]):
        declared = {p["id"]: p for p in layout.get("parameters", [])}
        self.names: list[str] = []
        self.constant: list[str] = []
        self.numeric: dict[str, np.ndarray] = {}
        self.categorical: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
        for column in frame.columns:
            if not column.startswith("param."):
                continue
            name = column.removeprefix("param.")
            series = frame[column]
            if series.nunique(dropna=False) < 2:
                self.constant.append(name)
                continue
            self.names.append(name)
            if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
                order = [str(v) for v in declared.get(name, {}).get("values", [])]
                seen = [str(v) for v in pd.unique(series)]
                labels = tuple([v for v in order if v in seen] + sorted(set(seen) - set(order)))
                codes = np.array([labels.index(str(v)) for v in series], dtype=np.int64)
                self.categorical[name] = (codes, labels)
            else:
                self.numeric[name] = series.to_numpy(dtype=float)
        n = len(frame)
        self.bins = _bins(n)
        self.codes: dict[str, tuple[np.ndarray, int]] = {}
        for name in self.names:
            if name in self.numeric:
                self.codes[name] = bin_codes(self.numeric[name], self.bins)
            else:
                codes, labels = self.categorical[name]
                self.codes[name] = (codes, len(labels))
        columns, owners = [], []
        for name in self.names:
            if name in self.numeric:
                columns.append(self.numeric[name])
                owners.append(name)
            else:
                codes, labels = self.categorical[name]
                for c in range(1, len(labels)):
                    columns.append((codes == c).astype(float))
                    owners.append(name)
        matrix = np.column_stack(columns) if columns else np.zeros((n, 0))
        sd = matrix.std(axis=0)
        sd[sd == 0] = 1.0
        self.standardised = (matrix - matrix.mean(axis=0)) / sd
        self.owners = owners


def _targets(
    frame: pd.DataFrame, layout: dict[str, Any], ending: str | None, branch: str | None
) -> list[dict[str, Any]]:
    """The outcomes to explain: endings and branch outcomes, as 0/1 columns."""
    from sim.language.schema import suggest

    endings = [e["id"] for e in layout["endings"]]
    branches = [b["id"] for b in layout["branches"]]
    if ending is not None and ending not in endings:
        raise OptionsError(f"--ending: no ending '{ending}'" + suggest(ending, endings))
    if branch is not None and branch not in branches:
        raise OptionsError(f"--branch: no branch '{branch}'" + suggest(branch, branches))
    targets = []
    if ending is not None or branch is None:
        for e in layout["endings"]:
            if ending is None or e["id"] == ending:
                targets.append(
                    {
                        "kind": "ending",
                        "id": e["id"],
                        "title": e.get("title") or e["id"],
                        "file_id": e["id"],
                        "outcome": (frame["ending"] == e["id"]).to_numpy(),
                    }
                )
    if branch is not None or ending is None:
        for b in layout["branches"]:
            if branch is not None and b["id"] != branch:
                continue
            column = frame[f"branch.{b['id']}"]
            for outcome in b["outcomes"]:
                targets.append(
                    {
                        "kind": "branch",
                        "id": f"{b['id']}={outcome}",
                        "title": f"{b['id']} = {outcome}",
                        "file_id": f"branch_{b['id']}_{outcome}",
                        "outcome": (column == outcome).to_numpy(),
                    }
                )
    return targets


def _tornado_ends(
    params: _Parameters, name: str, outcome: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any]]:
    """P(outcome) at the low and high end of one parameter, with labels."""
    if name in params.numeric:
        x = params.numeric[name]
        levels = np.unique(x)
        if len(levels) == 2:
            return tuple(  # type: ignore[return-value]
                {"label": f"= {number_text(v)}", "p": float(outcome[x == v].mean())} for v in levels
            )
        q20, q80 = np.quantile(x, [0.2, 0.8])
        low, high = x <= q20, x >= q80
        return (
            {"label": f"≤ {number_text(q20)}", "p": float(outcome[low].mean())},
            {"label": f"≥ {number_text(q80)}", "p": float(outcome[high].mean())},
        )
    codes, labels = params.categorical[name]
    rates = [(float(outcome[codes == c].mean()), labels[c]) for c in range(len(labels))]
    lowest, highest = min(rates), max(rates)
    return (
        {"label": f"= {lowest[1]}", "p": lowest[0]},
        {"label": f"= {highest[1]}", "p": highest[0]},
    )


def _rank(params: _Parameters, outcome: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Score every parameter for one outcome, best first."""
    y = outcome.astype(np.int64)
    rng = np.random.default_rng(seed)
    permuted = [rng.permutation(y) for _ in range(PERMUTATIONS)]
    coefficients = logistic_coefficients(params.standardised, y) if params.names else []
    h = entropy_bits(float(y.mean()))
    rows = []
    for name in params.names:
        codes, k = params.codes[name]
        score = mutual_information(codes, k, y)
        floor = float(np.quantile([mutual_information(codes, k, p) for p in permuted], 0.95))
        mine = [c for c, owner in zip(coefficients, params.owners, strict=True) if owner == name]
        low, high = _tornado_ends(params, name, outcome)
        if name in params.numeric:
            coefficient = float(mine[0])
            direction = "+" if coefficient > 0 else "-"
        else:
            # One coefficient per value beyond the first: report the largest in size.
            coefficient = float(max(mine, key=abs))
            direction = "by value"
        rows.append(
            {
                "parameter": name,
                "kind": "numeric" if name in params.numeric else "categorical",
                "mi_bits": score,
                "noise_floor_bits": floor,
                "above_noise": bool(score > floor),
                "share_of_uncertainty": score / h if h > 0 else 0.0,
                "logit_coefficient": coefficient,
                "direction": direction,
                "low": low,
                "high": high,
            }
        )
    rows.sort(key=lambda r: (-r["mi_bits"], r["parameter"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _rule(params: _Parameters, outcome: np.ndarray, title: str) -> dict[str, Any]:
    """PRIM's box for one outcome, with the sentence that states it.

    A box counts as a rule only if it is *clearly* denser than the base rate: the lower
    end of its density's 95% interval is above the base rate and the density exceeds it
    by at least 2 points or a tenth of it, whichever is more.
    """
    found = prim(params.numeric, params.categorical, outcome)
    box = found.box
    base = found.base_density
    data = found.as_json()
    lift = max(0.02, 0.1 * base)
    data["clear"] = bool(
        box.restrictions and density_floor(box) > base and box.density - base >= lift
    )
    where = " and ".join(r.text() for r in box.restrictions)
    if data["clear"]:
        data["text"] = (
            f"{title} in {box.density:.0%} of runs where {where}, covering "
            f"{box.coverage:.0%} of {title} runs ({box.support:.0%} of all runs are in "
            f"the box; base rate {base:.0%})."
        )
    elif box.restrictions:
        data["text"] = (
            f"No simple rule makes {title} clearly more likely than its base rate of "
            f"{base:.0%}; the best box found ({where}) has it in {box.density:.0%} of "
            f"runs, covering {box.coverage:.0%} of {title} runs."
        )
    else:
        data["text"] = (
            f"No box of parameter values makes {title} clearly more likely than its "
            f"base rate of {base:.0%}."
        )
    return data


def sobol_indices(
    frame: pd.DataFrame, design: dict[str, Any], targets: list[dict[str, Any]], seed: int
) -> dict[str, Any]:
    """First-order and total Sobol indices of each outcome from a Saltelli sweep.

    Args:
        frame: All runs of the sweep, in run order.
        design: The manifest's ``design`` entry (kind ``sobol``).
        targets: The outcomes (with their 0/1 arrays over all runs).
        seed: Seed of the bootstrap.

    Returns:
        ``{"params", "n", "runs", "targets": {outcome id: {param: {S1, S1_conf, ST,
        ST_conf}}}}``; an outcome that never varies gets ``None``.

    Raises:
        ResultsError: If the runs do not match the design's N*(2D+2).
    """
    from SALib.analyze import sobol

    names = list(design["params"])
    d, n = len(names), int(design["n"])
    second = bool(design.get("second_order", True))
    expected = n * (2 * d + 2) if second else n * (d + 2)
    if len(frame) != expected:
        raise ResultsError(
            f"the sobol design needs {expected:,} runs (N={n}, D={d}), the batch has {len(frame):,}"
        )
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    found: dict[str, Any] = {}
    for target in targets:
        y = target["outcome"].astype(float)
        if y.min() == y.max():
            found[target["id"]] = None
            continue
        with np.errstate(all="ignore"):
            analysed = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                num_resamples=SOBOL_RESAMPLES,
                conf_level=0.95,
                seed=seed,
            )
        found[target["id"]] = {
            name: {key: float(analysed[key][j]) for key in ("S1", "S1_conf", "ST", "ST_conf")}
            for j, name in enumerate(names)
        }
    return {"params": names, "n": n, "runs": expected, "targets": found}


def explain(
    folder: str | Path,
    *,
    ending: str | None = None,
    branch: str | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    plots: bool = True,
) -> dict[str, Any]:
    """Explain which parameters drive each ending and branch outcome of a batch.

    Args:
        folder: A finished results folder.
        ending: Explain only this ending (default: every ending and branch outcome).
        branch: Explain only this branch's outcomes.
        out: Where to write explain.json and the tornado charts (default
            ``DIR/explain``).
        seed: Seed of the permutations, the subset and the bootstrap.
        plots: Draw the tornado charts.

    Returns:
        The explanation (also written to ``explain.json``): the methods, and per
        outcome its ranking, rule, tornado file and, for a Sobol sweep, its indices.

    Raises:
        ResultsError: If the folder is not a finished batch.
        OptionsError: For an unknown ending or branch.

    Example:
        >>> found = explain("results/alaska-7", ending="war")  # doctest: +SKIP
        >>> print(found["targets"][0]["rule"]["text"])  # doctest: +SKIP
    """
    results = Results(folder)
    layout = results.layout
    import pyarrow.parquet as pq

    # Only the columns explain reads: memory stays small for wide, long batches.
    results.runs_table(columns=["run"])  # a finished, readable batch, or a ResultsError
    names = pq.read_schema(results.folder / "runs.parquet").names
    wanted = [c for c in names if c in ("run", "ending") or c.startswith(("param.", "branch."))]
    frame = results.runs(columns=wanted)
    if "run" in frame.columns:
        frame = frame.sort_values("run", kind="stable").reset_index(drop=True)
    target_dir = Path(out) if out is not None else results.folder / "explain"
    targets = _targets(frame, layout, ending, branch)
    design = results.manifest.get("design")
    sobol = None
    if design and design.get("kind") == "sobol":
        sobol = sobol_indices(frame, design, targets, seed)
    analysed = frame
    if len(frame) > MAX_ANALYSED_RUNS:
        chosen = np.sort(
            np.random.default_rng(seed).choice(len(frame), MAX_ANALYSED_RUNS, replace=False)
        )
        analysed = frame.iloc[chosen].reset_index(drop=True)
        for target in targets:
            target["analysed"] = target["outcome"][chosen]
    params = _Parameters(analysed, layout)
    target_dir.mkdir(parents=True, exist_ok=True)
    explained = []
    for target in targets:
        outcome = target.get("analysed", target["outcome"])
        count = int(outcome.sum())
        entry: dict[str, Any] = {
            "kind": target["kind"],
            "id": target["id"],
            "title": target["title"],
            "runs": len(outcome),
            "count": count,
            "p": count / len(outcome) if len(outcome) else 0.0,
        }
        if count == 0 or count == len(outcome) or not params.names:
            entry["note"] = (
                "no parameter varies in this batch"
                if not params.names
                else ("never happens" if count == 0 else "happens in every run")
                + " in this batch: nothing to explain"
            )
        else:
            entry["ranking"] = _rank(params, outcome, seed)
            phrase = target["title"] if target["kind"] == "ending" else f"“{target['title']}”"
            entry["rule"] = _rule(params, outcome, phrase)
            if plots:
                name = f"tornado_{_safe(target['file_id'])}.png"
                tornado_chart(entry, target_dir / name)
                entry["tornado"] = name
        if sobol is not None:
            entry["sobol"] = sobol["targets"].get(target["id"])
        explained.append(entry)
    manifest = results.manifest
    found = {
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
        "scope": {"ending": ending, "branch": branch},
        "runs_analysed": len(analysed),
        "parameters": params.names,
        "constant_parameters": params.constant,
        "bins": params.bins,
        "methods": {k: v for k, v in METHODS.items() if k != "sobol" or sobol is not None},
        "targets": explained,
    }
    if sobol is not None:
        found["sobol"] = {k: v for k, v in sobol.items() if k != "targets"}
    atomic_write_json(target_dir / "explain.json", _plain(found))
    return _plain(found)


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
        (``--ending``/``--branch``), or it was made for another batch (another
        scenario text, seed, size or finish time).
    """
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
        and found.get("scope") == {"ending": None, "branch": None}
    )
    return found if current else None


# --- output ---------------------------------------------------------------------------


def tornado_chart(entry: dict[str, Any], path: Path) -> None:
    """Draw one outcome's tornado chart: P(outcome) at each parameter's low and high end.

    Args:
        entry: One outcome of :func:`explain` (with its ranking).
        path: The PNG to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = entry["ranking"][:TORNADO_TOP]
    base = entry["p"]
    height = 2.1 + 0.62 * len(rows)
    fig, ax = plt.subplots(figsize=(10, height), dpi=150)
    low_colour, high_colour = "#4C72B0", "#DD8452"
    # Zoom to the probabilities shown, leaving room on each side for the end labels.
    shown = [base] + [row[end]["p"] for row in rows for end in ("low", "high")]
    lo, hi = min(shown), max(shown)
    span = max(hi - lo, 0.04)
    margin = 0.2 * span / (1 - 2 * 0.2)
    ax.set_xlim(lo - margin, hi + margin)
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        ends = [(row["low"], low_colour), (row["high"], high_colour)]
        # The longer bar first, so a shorter one on the same side stays visible on top.
        for end, colour in sorted(ends, key=lambda e: -abs(e[0]["p"] - base)):
            ax.barh(
                y,
                end["p"] - base,
                left=base,
                height=0.62,
                color=colour,
                alpha=0.92 if row["above_noise"] else 0.3,
            )
        left, right = sorted((row["low"], row["high"]), key=lambda e: e["p"])
        for end, x, side in ((left, min(left["p"], base), -1), (right, max(right["p"], base), 1)):
            ax.annotate(
                f"{end['label']}: {end['p']:.0%}",
                (x, y),
                xytext=(4 * side, 0),
                textcoords="offset points",
                ha="left" if side > 0 else "right",
                va="center",
                fontsize=10.5,
                color="#333333",
            )
    ax.axvline(base, color="#222222", linewidth=1.2)
    labels = []
    for row in rows:
        mark = "" if row["above_noise"] else "  (noise)"
        labels.append(f"{row['parameter']}\nMI {row['mi_bits']:.3f} bits{mark}")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=11)
    ax.tick_params(axis="x", labelsize=11)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ticks = [t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9]
    ax.set_xticks(ticks)
    ax.set_xlim(lo - margin, hi + margin)
    ax.set_xlabel(f"P({entry['title']})", fontsize=12)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.text(
        0.015,
        1 - 0.28 / height,
        f"What drives “{entry['title']}”  (P = {base:.0%} over all runs)",
        fontsize=14,
        fontweight="bold",
        ha="left",
        va="center",
    )
    subtitle = textwrap.fill(
        "Bar ends: probability among runs with the parameter in its lowest fifth (blue) and "
        "highest fifth (orange); line: all runs. Ordered by mutual information; faded: "
        "below the noise floor.",
        width=115,
    )
    fig.text(
        0.015,
        1 - 0.55 / height,
        subtitle,
        fontsize=9.5,
        color="#555555",
        ha="left",
        va="top",
        linespacing=1.3,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.0 / height))
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(path)


def format_explanation(found: dict[str, Any], top: int = 5, width: int = 100) -> str:
    """The explanation as plain text for a terminal.

    Args:
        found: The result of :func:`explain`.
        top: Parameters listed per outcome.
        width: Longest line.
    """
    out = []
    batch = found["batch"]
    out.append(
        f"{batch['title']} ({batch['scenario']}): {batch['runs']:,} runs, seed {batch['seed']}"
    )
    if found["runs_analysed"] < batch["runs"]:
        out.append(f"ranking and rules use a random subset of {found['runs_analysed']:,} runs")
    out.append("Ranking: mutual information (bits) with a permutation noise floor;")
    out.append("direction: standardised logistic-regression coefficient. Rule: PRIM box.")
    for entry in found["targets"]:
        out.append("")
        kind = "Ending" if entry["kind"] == "ending" else "Branch outcome"
        out.append(f"{kind}: {entry['title']}  (P = {entry['p']:.1%}, {entry['count']:,} runs)")
        if "note" in entry:
            out.append(f"  {entry['note']}")
        else:
            out.append(
                f"  {'#':>2} {'parameter':<24} {'MI bits':>8} {'floor':>7} {'logit':>7}  low→high"
            )
            for row in entry["ranking"][:top]:
                flag = "" if row["above_noise"] else " (noise)"
                out.append(
                    f"  {row['rank']:>2} {row['parameter'][:24]:<24} {row['mi_bits']:>8.4f} "
                    f"{row['noise_floor_bits']:>7.4f} {row['logit_coefficient']:>+7.2f}  "
                    f"{row['low']['p']:.0%} ({row['low']['label']}) → "
                    f"{row['high']['p']:.0%} ({row['high']['label']}){flag}"
                )
            out.extend(
                textwrap.wrap(
                    f"Rule: {entry['rule']['text']}",
                    width=width,
                    initial_indent="  ",
                    subsequent_indent="        ",
                )
            )
        if entry.get("sobol"):
            out.append("  Sobol indices (± 95% CI):  S1 first-order, ST total")
            for name, s in sorted(entry["sobol"].items(), key=lambda kv: -kv[1]["ST"]):
                out.append(
                    f"    {name[:24]:<24} S1 {s['S1']:6.3f} ± {s['S1_conf']:.3f}   "
                    f"ST {s['ST']:6.3f} ± {s['ST_conf']:.3f}"
                )
    return "\n".join(line[:width] for line in out)
