"""The scenario language: from YAML text to a compiled scenario, and nothing more.

A scenario is read in four steps, one module each::

    yamlsource   YAML text -> data with the file position of every value
    schema       data -> Scenario (pydantic models: typed, immutable, shape-checked)
    expressions  the safe expression language: parsed with ast, whitelisted, compiled
                 to functions over numpy arrays of shape (runs,)
    compiler     Scenario -> CompiledScenario: names resolved, cross-references
                 checked, every expression compiled once

``sites`` names the places that draw random numbers (the engine's streams key their
draws by these names).

``starter`` is the commented starter scenario that ``wargame new`` writes.

May import: :mod:`sim.errors`, :mod:`sim.version`, the standard library, PyYAML,
pydantic, numpy and scipy.special. Nothing else of ``sim``: the language knows nothing
of sampling, the model, batches or analysis (an import-linter contract in
pyproject.toml keeps it so). Importing this package imports none of its modules.
"""
