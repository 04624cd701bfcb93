"""The engine: plays a compiled scenario for a block of runs, round by round.

One :class:`~sim.engine.model.WargameModel` advances R independent runs at once (every
state variable a numpy array of shape (R,)); a seminar is the R = 1 case of the same
code. The modules, from the bottom up::

    streams        counter-based random numbers: a draw is a pure function of
                   (seed, run, site, round)
    parameters     each uncertain input's distribution, sampled once per run
    initial_state  round 0: parameters sampled, initial state set
    decision       decision rules (logit, best response): scores -> probabilities
    actors         one actor's rules: feasible actions, scores, explanations
    model          the world and its round: injects, decide, act, branch, pay, record
    lint           dead levers (warnings): needs sampled parameters, so it lives here
    loading        load(): compile a scenario and attach its dead-lever warnings

May import: :mod:`sim.language`, :mod:`sim.errors`, :mod:`sim.version`, numpy, scipy
and Mesa. Never batches, the results folder, analysis, the seminar, matplotlib,
pandas or click (import-linter contracts in pyproject.toml keep it so). ``actors``
names the model only for type checking. Importing this package imports none of its
modules.
"""
