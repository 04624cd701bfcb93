"""How likely each branch and ending is: counts, probabilities and 95% Wilson intervals.

The Wilson score interval is used rather than the normal approximation because many
endings of interest are rare (a few percent), where the normal interval is too narrow
and can leave [0, 1].

**Sobol sweeps.** The runs of a Sobol sweep are not independent draws: the rows of one
base sample repeat the values of its rows A and B, replicate after replicate, and share
the game's chance within a replicate. 9,216 runs of 256 base samples hold far less
than 9,216 runs' worth of information, and a Wilson interval over the runs is several
times too narrow. There the unit is the base sample: the variance of a share (or a
mean payoff) is the cluster-robust one over base samples, and the interval is Wilson's
at the *effective* number of runs p(1 - p) / variance (never more than the runs, and
the number of base samples when no run or every run has the outcome). The summary
records this under ``intervals``.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion.

    Args:
        successes: Number of runs with the outcome (fractional for an effective count).
        n: Number of runs (or the effective number of a clustered design).
        z: Normal quantile (1.96 for 95%).

    Returns:
        (low, high); (0, 1) when n is 0.
    """
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


class Clusters:
    """The independent units of a batch's runs: base samples of a Sobol sweep.

    Attributes:
        ids: The cluster of each run (aligned with the runs table's rows).
        count: Number of clusters.
    """

    def __init__(self, ids: np.ndarray, count: int):
        self.ids = ids
        self.count = count

    def variance_of_mean(self, values: np.ndarray) -> float:
        """Cluster-robust variance of the mean of ``values`` over all runs."""
        n = len(values)
        if n == 0 or self.count < 2:
            return 0.0
        mean = float(values.mean())
        sums = np.bincount(self.ids, weights=values - mean, minlength=self.count)
        return float(self.count / (self.count - 1) * np.sum(sums**2) / n**2)

    def effective_runs(self, hits: np.ndarray) -> float:
        """Effective number of independent runs behind a share (see the module doc)."""
        n = len(hits)
        p = float(hits.mean()) if n else 0.0
        variance = self.variance_of_mean(hits.astype(float))
        if p in (0.0, 1.0) or variance <= 0:
            return float(self.count if p in (0.0, 1.0) else n)
        return float(min(n, p * (1 - p) / variance))


def batch_clusters(
    manifest: dict[str, Any], names: list[str], runs: Callable[[], np.ndarray]
) -> Clusters | None:
    """The base samples of a Sobol sweep's runs, or ``None`` for independent runs.

    Args:
        manifest: The batch manifest (its ``design``).
        names: The columns of the runs table.
        runs: Reads the ``run`` column (called only for a Sobol sweep).
    """
    design = manifest.get("design") or {}
    if design.get("kind") != "sobol" or "run" not in names:
        return None
    n = int(design["n"])
    per = int(design.get("rows_per_sample") or 2 * len(design["params"]) + 2)
    return Clusters((runs().astype(np.int64) % (n * per)) // per, n)


def _proportions(
    counts: Counter[str],
    order: list[str],
    n: int,
    clusters: Clusters | None = None,
    labels: Callable[[], np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    values = labels() if clusters is not None and labels is not None else None
    rows = []
    for key in order:
        count = int(counts.get(key, 0))
        row: dict[str, Any] = {"id": key, "count": count, "p": count / n if n else 0.0}
        if clusters is not None and values is not None:
            effective = clusters.effective_runs((values == key).astype(float))
            low, high = wilson_interval(row["p"] * effective, effective)
            row["effective_runs"] = effective
        else:
            low, high = wilson_interval(count, n)
        row["low"], row["high"] = low, high
        rows.append(row)
    return rows


def interval_label(summary: dict[str, Any]) -> str:
    """What a summary's intervals are, for a table's heading."""
    if summary.get("intervals", {}).get("method") == "clustered":
        return "95% interval (base samples)"
    return "95% Wilson interval"


def interval_note(summary: dict[str, Any]) -> str:
    """One sentence on a clustered summary's intervals (empty for independent runs)."""
    intervals = summary.get("intervals", {})
    if intervals.get("method") != "clustered":
        return ""
    return (
        f"Intervals treat the {intervals['clusters']:,} base samples of the Sobol design as "
        f"the independent units: the {intervals['runs_per_cluster']:,} runs of one share "
        "parameter values and game chance (Wilson at the effective number of runs)."
    )


def summary_columns(layout: dict[str, Any]) -> list[str]:
    """The columns of runs.parquet that :func:`summarize` reads."""
    columns = ["run", "ending", "branch_path"]
    columns += [f"branch.{b['id']}" for b in layout["branches"]]
    columns += [f"payoff.{a['id']}" for a in layout["actors"]]
    columns += [f"metric.{m['id']}" for m in layout["metrics"]]
    if layout.get("stops"):
        columns.append("rounds_played")
    if layout.get("equilibrium"):
        columns.append("unconverged_rounds")
    return columns


def summarize(table: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Summarise a batch from its runs table.

    Args:
        table: The runs table (all of ``runs.parquet`` or the needed columns).
        manifest: The batch manifest (scenario ids, titles and orders come from it).

    Returns:
        A JSON-serialisable summary: endings, branches, branch paths, payoffs, metrics.
    """
    return _summarize(
        table.num_rows,
        lambda name: Counter(table.column(name).to_pylist()),
        lambda name: as_numpy(table.column(name)),
        lambda name: np.asarray(table.column(name).to_pylist(), dtype=object),
        table.column_names,
        manifest,
    )


def summarize_file(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Summarise a batch from its ``runs.parquet`` without loading the table.

    Text columns (endings, branch outcomes, paths) are counted batch by batch; numeric
    columns are read one at a time (8 bytes a run), so memory stays flat as runs grow.
    Gives the same summary as :func:`summarize` on the whole table.

    Args:
        path: The runs file.
        manifest: The batch manifest.
    """
    with pq.ParquetFile(path) as file:
        n = file.metadata.num_rows
        names = file.schema_arrow.names

    def counts(name: str) -> Counter[str]:
        counted: Counter[str] = Counter()
        for group in row_groups(path, [name]):
            for row in pc.value_counts(group.column(0)).to_pylist():
                counted[row["values"]] += row["counts"]
        return counted

    def values(name: str) -> np.ndarray:
        return read_column(path, name)

    def labels(name: str) -> np.ndarray:
        text = read_columns(path, [name]).column(0).to_pylist()
        return np.asarray(text, dtype=object)

    return _summarize(n, counts, values, labels, names, manifest)


def row_groups(path: Path, columns: list[str]) -> Iterator[pa.Table]:
    """Some columns of a Parquet file, one row group at a time (65,536 rows in ours).

    Memory holds one row group of those columns: reading a million runs costs what
    reading ten thousand does. (``ParquetFile.iter_batches`` buffers ahead, tens of
    megabytes more.)
    """
    with pq.ParquetFile(path) as file:
        for group in range(file.metadata.num_row_groups):
            yield file.read_row_group(group, columns=columns, use_threads=False)


def as_numpy(data: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow column of numbers as a numpy array, without importing pandas.

    ``to_numpy`` asks pandas about the array first, and that imports it (0.2 s) in a
    process that never needs it (the batch's summary, a plot worker). Numbers without
    nulls are read from their buffer (a read-only view of a single chunk, else a
    concatenated copy); anything else goes through ``to_numpy``.

    Args:
        data: An array or chunked array.
    """
    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    dtype = _numpy_dtype(data.type)
    parts = []
    for chunk in chunks:
        if dtype is None or chunk.null_count:
            parts.append(chunk.to_numpy(zero_copy_only=False))
        elif len(chunk) == 0:
            parts.append(np.empty(0, dtype=dtype))
        else:
            buffer = chunk.buffers()[1]
            offset = chunk.offset * dtype.itemsize
            parts.append(np.frombuffer(buffer, dtype=dtype, count=len(chunk), offset=offset))
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, dtype=dtype or object)
    return np.concatenate(parts)


def _numpy_dtype(kind: pa.DataType) -> np.dtype | None:
    """The numpy dtype of an Arrow integer or floating type (None for any other)."""
    if pa.types.is_floating(kind):
        letter = "f"
    elif pa.types.is_signed_integer(kind):
        letter = "i"
    elif pa.types.is_unsigned_integer(kind):
        letter = "u"
    else:
        return None
    return np.dtype(f"{letter}{kind.bit_width // 8}")


def read_run_rows(path: Path, run: int, columns: list[str] | None = None) -> pa.Table:
    """The rows of a runs file whose ``run`` is ``run`` (normally one), without a scan.

    Only the row groups whose statistics can hold ``run`` are read (one, in a batch's
    file): ``pq.read_table(filters=...)`` would do the same through pyarrow.dataset,
    which imports pandas (0.3 s, more than the rest of a replay's reading).

    Args:
        path: A Parquet file with an integer ``run`` column.
        run: The run index.
        columns: The columns to return (all if None).
    """
    found = []
    with pq.ParquetFile(path) as file:
        schema = file.schema_arrow
        at = schema.get_field_index("run")
        for group in range(file.metadata.num_row_groups):
            stats = file.metadata.row_group(group).column(at).statistics
            if stats is not None and stats.has_min_max and not stats.min <= run <= stats.max:
                continue
            runs = as_numpy(file.read_row_group(group, columns=["run"]).column(0))
            rows = np.flatnonzero(runs == run)
            if rows.size:
                table = file.read_row_group(group, columns=columns)
                found += [table.slice(int(r), 1) for r in rows]  # (pa.array: pandas)
    if not found:
        names = columns if columns is not None else schema.names
        return pa.table({n: pa.array([], type=schema.field(n).type) for n in names})
    return pa.concat_tables(found)


def read_columns(
    path: Path, columns: Sequence[str] | None = None, dictionary: Sequence[str] = ()
) -> pa.Table:
    """Columns of a Parquet file (all if None) as one table.

    Read through ``pq.ParquetFile``: ``pq.read_table`` goes through pyarrow.dataset,
    whose import brings pandas (a quarter of a second in a process that needs neither).

    Args:
        path: The Parquet file.
        columns: The columns to read; all if None.
        dictionary: Columns to keep dictionary-coded (a few bytes a row, not a string).
    """
    with pq.ParquetFile(path, read_dictionary=list(dictionary) or None) as file:
        return file.read(columns=None if columns is None else list(columns))


def read_column(path: Path, column: str, dtype: Any = np.float64) -> np.ndarray:
    """One numeric column of a Parquet file as one numpy array, read batch by batch.

    Reading the column as a table would hold it twice (Arrow chunks, then the
    concatenated copy); this holds it once plus one batch.
    """
    with pq.ParquetFile(path) as file:
        out = np.empty(file.metadata.num_rows, dtype=dtype)
    at = 0
    for group in row_groups(path, [column]):
        chunk = as_numpy(group.column(0))
        out[at : at + chunk.size] = chunk
        at += chunk.size
    pa.default_memory_pool().release_unused()
    return out[:at]


def _summarize(
    n: int,
    counts: Callable[[str], Counter[str]],
    column: Callable[[str], np.ndarray],
    labels: Callable[[str], np.ndarray],
    names: list[str],
    manifest: dict[str, Any],
) -> dict[str, Any]:
    """The summary from ``n`` runs, read through ``counts`` and ``column``.

    ``labels`` gives a text column run by run; it is read only for a Sobol sweep, whose
    intervals need each run's outcome with its base sample.
    """
    layout = manifest["layout"]
    clusters = batch_clusters(manifest, names, lambda: column("run"))

    def share_rows(name: str, order: list[str], found: Counter[str] | None = None):
        found = counts(name) if found is None else found
        return _proportions(found, order, n, clusters, lambda: labels(name))

    summary: dict[str, Any] = {
        "scenario": {k: manifest["scenario"][k] for k in ("id", "title", "sha256")},
        "runs": n,
        "seed": manifest["seed"],
        "overrides": manifest.get("settings", manifest.get("overrides", {})),
        "endings": share_rows("ending", [e["id"] for e in layout["endings"]]),
    }
    if clusters is not None:
        summary["intervals"] = {
            "method": "clustered",
            "unit": "base sample",
            "clusters": clusters.count,
            "runs_per_cluster": n // max(clusters.count, 1),
        }
    else:
        summary["intervals"] = {"method": "wilson", "unit": "run"}
    titles = {e["id"]: e["title"] for e in layout["endings"]}
    for row in summary["endings"]:
        row["title"] = titles[row["id"]]
    branches = []
    for branch in layout["branches"]:
        rows = share_rows(f"branch.{branch['id']}", [*branch["outcomes"], ""])
        rows[-1]["id"] = "(not reached)"
        if rows[-1]["count"] == 0:
            rows.pop()
        branches.append({"id": branch["id"], "outcomes": rows})
    summary["branches"] = branches
    paths = counts("branch_path")
    summary["branch_paths"] = share_rows("branch_path", [p for p, _ in paths.most_common()], paths)
    payoffs = []
    for actor in layout["actors"]:
        values = column(f"payoff.{actor['id']}")
        sd = float(values.std(ddof=1)) if n > 1 else 0.0
        stderr = sd / math.sqrt(n) if n else 0.0
        if clusters is not None and n:
            stderr = math.sqrt(clusters.variance_of_mean(values.astype(float)))
        payoffs.append(
            {
                "actor": actor["id"],
                "name": actor["name"],
                "mean": float(values.mean()) if n else 0.0,
                "sd": sd,
                "stderr": stderr,
            }
        )
    summary["payoffs"] = payoffs
    metrics = []
    for metric in layout["metrics"]:
        values = column(f"metric.{metric['id']}")
        q05, q50, q95 = (
            (float(v) for v in np.quantile(values, [0.05, 0.5, 0.95])) if n else (0, 0, 0)
        )
        metrics.append(
            {
                "id": metric["id"],
                "title": metric["title"],
                "unit": metric["unit"],
                "mean": float(values.mean()) if n else 0.0,
                "p05": q05,
                "p50": q50,
                "p95": q95,
            }
        )
    summary["metrics"] = metrics
    if "rounds_played" in names:
        played = column("rounds_played")
        rounds = layout["rounds"]
        summary["rounds_played"] = {
            "mean": float(played.mean()) if n else 0.0,
            "min": int(played.min()) if n else 0,
            "stopped_early": int((played < rounds).sum()),
        }
    if "unconverged_rounds" in names:
        missed = column("unconverged_rounds")
        # Runs in which some round's equilibrium search hit its cap: their strategies
        # for that round are the last iterate, not a QRE.
        summary["reasoning"] = {
            "unconverged_runs": int((missed > 0).sum()),
            "unconverged_rounds": int(missed.sum()),
            "equilibrium_actors": [
                a["id"] for a in layout.get("actors", []) if a.get("reasoning") == "equilibrium"
            ],
        }
    return summary


def _pct(x: float) -> str:
    # 1 run in 5,000 is not "0.0%" (a trial read it as none): "<0.1%", and ">99.9%".
    if 0 < x < 0.0005:
        return " <0.1%"
    if 0.9995 <= x < 1:
        return ">99.9%"
    return f"{100 * x:5.1f}%"


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, broken at spaces only (never inside a name)."""
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def format_summary(summary: dict[str, Any], width: int = 80) -> str:
    """The summary as a plain-text table for a terminal.

    Prose wraps at ``width``; a table's first column is as wide as its longest title
    (at least 34), so no ending's or actor's name is cut.
    """
    out = []
    scenario = summary["scenario"]
    out += _wrap(f"{scenario['title']} ({scenario['id']})", width)
    out.append(f"{summary['runs']:,} runs, seed {summary['seed']}")
    if interval_note(summary):
        out += _wrap(interval_note(summary), width)
    if summary.get("overrides"):
        settings = ", ".join(f"{k}={v}" for k, v in summary["overrides"].items())
        out += _wrap(f"settings: {settings}", width)
    labels = [o["id"] for b in summary["branches"] for o in b["outcomes"]]
    labels += [e["title"] or e["id"] for e in summary["endings"]]
    labels += [f"{p['actor']} ({p['name']})" for p in summary["payoffs"]]
    name_width = max([34, *(len(label) for label in labels)])

    def row(label: str, item: dict[str, Any]) -> str:
        interval = f"[{_pct(item['low'])}, {_pct(item['high'])}]"
        return f"  {label:<{name_width}} {item['count']:>9,} {_pct(item['p'])}  {interval}"

    # "share", not "p": next to compare's p-values a bare p reads as one.
    header = f"  {'':<{name_width}} {'runs':>9} {'share':>6}  {interval_label(summary)}"
    for branch in summary["branches"]:
        out.append("")
        out.append(f"Branch: {branch['id']}")
        out.append(header)
        out.extend(row(o["id"], o) for o in branch["outcomes"])
    out.append("")
    out.append("Endings")
    out.append(header)
    out.extend(row(e["title"] or e["id"], e) for e in summary["endings"])
    if summary.get("rounds_played", {}).get("stopped_early"):
        played = summary["rounds_played"]
        out.append("")
        out.append(
            f"{played['stopped_early']:,} runs were stopped before the last round by a "
            "stopping ending; "
            f"{played['mean']:.1f} rounds played on average"
        )
    if summary.get("reasoning", {}).get("unconverged_runs"):
        from sim.engine.lint import UNCONVERGED_ADVICE  # only here: lint's imports are heavy

        missed = summary["reasoning"]
        out.append("")
        who = ", ".join(missed.get("equilibrium_actors") or [])
        rounds, runs = missed["unconverged_rounds"], missed["unconverged_runs"]
        out += _wrap(
            f"warning: the round's equilibrium{f' ({who})' if who else ''} was not found in "
            f"{rounds:,} {'round' if rounds == 1 else 'rounds'} of {runs:,} "
            f"{'run' if runs == 1 else 'runs'}; there the actors played the QRE at the "
            f"highest rationality the search reached; {UNCONVERGED_ADVICE}. "
            "runs.parquet's unconverged_rounds says which runs.",
            width,
        )
    out.append("")
    out.append("Mean payoff per actor (total over rounds)")
    out.append(f"  {'':<{name_width}} {'mean':>10} {'± 1.96 se':>10} {'sd':>9}")
    for p in summary["payoffs"]:
        label = f"{p['actor']} ({p['name']})"
        out.append(
            f"  {label:<{name_width}} {p['mean']:>10.2f} {Z95 * p['stderr']:>10.2f} {p['sd']:>9.2f}"
        )
    return "\n".join(out)
