"""Replaying one run of a batch exactly, from its results folder alone.

The manifest keeps the scenario's full text, its sha256, the seed and the settings, and
every draw depends only on (seed, run, round, site); so run K played alone, as a block
of one, retraces run K of the batch bit for bit. :func:`replay` checks the text against
its fingerprint first, so a damaged manifest cannot replay a different game silently.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from sim.batch.results import Results
from sim.batch.summary import read_run_rows
from sim.engine.model import WargameModel
from sim.errors import OptionsError, ResultsError
from sim.language.compiler import compile_text
from sim.seminar.transcript import round_record_json


def replay(
    folder: str | Path,
    run: int,
    choices: dict[tuple[int, str], str] | None = None,
    play_all: bool = True,
) -> WargameModel:
    """Re-play run ``run`` of a batch with its full history.

    Args:
        folder: The results folder.
        run: The run index (0-based, as in runs.parquet's ``run`` column).
        choices: Choices to impose (a fork), ``{(round, actor_id): action_id}``.
        play_all: Play to the end; otherwise return the model before round 1.

    Returns:
        The model (a block of one run) with ``history`` kept.

    Raises:
        ResultsError: If the folder is damaged or the scenario text does not match.
        OptionsError: If ``run`` is not a run of the batch.
    """
    results = Results(folder)
    manifest = results.manifest
    text = results.scenario_text
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if sha != manifest["scenario"]["sha256"]:
        raise ResultsError(f"{folder}: the scenario text in the manifest does not match its sha256")
    if not 0 <= run < manifest["runs"]:
        raise OptionsError(f"--run {run}: the batch has runs 0 to {manifest['runs'] - 1}")
    compiled = compile_text(text, manifest["scenario"]["path"])
    from sim.batch.designs import stream_keys

    # A Sobol sweep's rows share their game chance: the run's stream key, not its index.
    streams = stream_keys(manifest.get("design"), np.array([run]))
    design = None
    if manifest.get("design"):
        # A sweep's design values are not drawn from the seed: read the run's own row.
        from sim.batch.designs import design_of

        runs_path = results.folder / "runs.parquet"
        row = read_run_rows(runs_path, run).to_pandas()
        design = design_of(manifest, row, compiled)
    model = WargameModel(
        compiled,
        manifest["seed"],
        np.array([run]),
        overrides=manifest.get("overrides") or None,
        choices=choices,
        keep_history=True,
        design=design,
        streams=streams,
    )
    if play_all:
        with np.errstate(all="ignore"):
            model.run_model()
        if choices is None:
            _check_against_the_batch(results, run, model)
    return model


def _check_against_the_batch(results: Results, run: int, model: WargameModel) -> None:
    """Refuse a replay whose game is not the batch's row ``run`` (ending and payoffs).

    The manifest's checksum catches accidents, but a manifest edited by hand with its
    checksum recomputed (another seed, another ``--set`` value) would otherwise narrate
    a game the batch never played.
    """
    columns = ["run", "ending"] + [f"payoff.{a.id}" for a in model.compiled.actors]
    path = results.folder / "runs.parquet"
    stored = read_run_rows(path, run, columns).to_pylist()
    if len(stored) != 1:
        raise ResultsError(f"{results.folder}: runs.parquet has no single row for run {run}")
    row = stored[0]
    replayed = model.records()
    ending = str(replayed["ending"][0])
    payoffs_match = all(
        np.isclose(float(replayed[f"payoff.{a.id}"][0]), float(row[f"payoff.{a.id}"]), rtol=1e-12)
        for a in model.compiled.actors
    )
    if ending != row["ending"] or not payoffs_match:
        differs = (
            f"ending {ending}, not {row['ending']}" if ending != row["ending"] else "its payoffs"
        )
        raise ResultsError(
            f"{results.folder}: run {run} replays to another game than runs.parquet holds "
            f"({differs}): the manifest's seed or settings are not the batch's (edited?), or "
            "the program differs from the one that ran it"
        )


def replay_record(model: WargameModel) -> dict[str, Any]:
    """The replayed run as JSON-ready data: its runs.parquet fields plus every round."""
    from sim.batch.tasks import records_to_tables

    table, _, _ = records_to_tables(model, keep_rounds=False)
    row = {k: v[0] for k, v in table.to_pydict().items()}
    row["rounds"] = [round_record_json(model, record) for record in model.history]
    return row
