"""Uncertain inputs: each parameter's distribution, sampled once per run.

Every parameter draws from its own stream (keyed by its name), by inverse transform of
one uniform number, so a parameter's value in run k never depends on the other
parameters, on the block size or on the order of sampling. Truncated normals use the
exact inverse CDF on the truncated range, so there is no rejection loop.
"""

from __future__ import annotations

import numpy as np

from sim.engine.streams import Streams, site_key
from sim.language.schema import (
    BernoulliParam,
    ChoiceParam,
    FixedParam,
    NormalParam,
    TriangularParam,
    UniformParam,
)


def param_site(name: str) -> int:
    """The stream key of a parameter."""
    return site_key(f"parameters.{name}")


def sample_parameter(param: object, u: np.ndarray) -> np.ndarray:
    """Map uniform draws ``u`` in (0, 1) to values of ``param``'s distribution.

    Categorical parameters (a choice among names, or a fixed name) give the index of
    the value in their list, as a float.

    Args:
        param: A parameter model from :mod:`sim.language.schema`.
        u: Uniform draws, shape (R,).

    Returns:
        A float64 array of shape (R,).
    """
    if isinstance(param, FixedParam):
        value = 0.0 if isinstance(param.value, str) else float(param.value)
        return np.full(u.shape, value)
    if isinstance(param, UniformParam):
        return param.low + (param.high - param.low) * u
    if isinstance(param, NormalParam):
        if param.sd == 0:
            return np.full(u.shape, param.mean)
        # scipy.special costs 0.2 s to import: paid only by scenarios with a normal.
        from scipy.special import ndtr, ndtri

        lo = 0.0 if param.low is None else ndtr((param.low - param.mean) / param.sd)
        hi = 1.0 if param.high is None else ndtr((param.high - param.mean) / param.sd)
        value = param.mean + param.sd * ndtri(lo + (hi - lo) * u)
        low = -np.inf if param.low is None else param.low
        high = np.inf if param.high is None else param.high
        return np.clip(value, low, high)
    if isinstance(param, TriangularParam):
        a, c, b = param.low, param.mode, param.high
        cut = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < cut, left, right)
    if isinstance(param, BernoulliParam):
        return (u < param.p).astype(float)
    if isinstance(param, ChoiceParam):
        weights = np.ones(len(param.values)) if param.weights is None else np.array(param.weights)
        cumulative = np.cumsum(weights) / weights.sum()
        index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(param.values) - 1)
        if isinstance(param.values[0], str):
            return index.astype(float)
        return np.asarray(param.values, dtype=float)[index]
    raise TypeError(f"unknown parameter type {type(param).__name__}")  # pragma: no cover


def sample_parameters(
    parameters: dict[str, object], streams: Streams, overrides: dict[str, float] | None = None
) -> list[np.ndarray]:
    """Sample every parameter for every run of a block.

    Args:
        parameters: Name -> parameter model, in scenario order.
        streams: The block's streams.
        overrides: Fixed values that replace a parameter's distribution.

    Returns:
        One float64 array of shape (R,) per parameter, in order.
    """
    overrides = overrides or {}
    values = []
    for name, param in parameters.items():
        u = streams.uniform(param_site(name), 0)
        if name in overrides:
            values.append(np.full(u.shape, float(overrides[name])))
        else:
            values.append(sample_parameter(param, u))
    return values
