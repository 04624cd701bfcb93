"""Round 0 of a block of runs: parameters sampled, initial state set.

Both the model and the dead-lever check (:mod:`sim.engine.lint`) start from here, so this
module sits below both: it reads the compiled scenario and never imports the model.
"""

from __future__ import annotations

import numpy as np

from sim.engine.parameters import sample_parameters
from sim.engine.streams import Streams
from sim.language.compiler import CompiledScenario
from sim.language.expressions import EvalContext


def initial_context(
    compiled: CompiledScenario,
    seed: int,
    runs: np.ndarray,
    overrides: dict[str, float] | None = None,
    design: dict[str, np.ndarray] | None = None,
    streams: np.ndarray | None = None,
) -> EvalContext:
    """Sample parameters and set the initial state of a block of runs (round 0).

    Args:
        compiled: The scenario.
        seed: The batch seed.
        runs: Global run indices, shape (R,).
        overrides: Parameter or initial-state values fixed by the user (``--set``).
        design: Parameter values set by an experimental design (a sweep), one per run
            of the block (category index for a categorical parameter); the other
            parameters keep their own random draw.
        streams: The key of each run's random streams (default: the run indices).
            Runs sharing a key draw the same numbers everywhere (common random
            numbers), while ``runs`` still names them in the records.
    """
    runs = np.asarray(runs, dtype=np.int64)
    overrides = dict(overrides or {})
    keys = runs if streams is None else np.asarray(streams, dtype=np.int64)
    block_streams = Streams(seed, keys)
    spec = compiled.loaded.spec
    params = sample_parameters(dict(spec.parameters), block_streams, overrides)
    for name, values in (design or {}).items():
        params[compiled.param_names.index(name)] = np.asarray(values, dtype=float).copy()
    n_actors = len(compiled.actors)
    most = max((len(a.actions) for a in compiled.actors), default=1)
    ctx = EvalContext(
        state=[],
        params=params,
        runs=runs,
        streams=block_streams,
        times=np.zeros((n_actors, most, len(runs))),
        last=np.zeros((n_actors, most, len(runs))),
        chose=np.zeros((n_actors, most, len(runs))),
    )
    state = []
    for i, (name, expression) in enumerate(
        zip(compiled.state_names, compiled.state_initial, strict=True)
    ):
        value = np.array(expression(ctx), dtype=float)
        if name in overrides:
            value = np.full(len(runs), float(overrides[name]))
        low, high = compiled.state_low[i], compiled.state_high[i]
        state.append(np.clip(value, low, high))
    ctx.state = state
    return ctx
