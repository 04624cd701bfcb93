"""Analysis: what a finished batch means, read from its results folder.

Everything here reads results folders (:mod:`sim.batch.results`), or a compiled
scenario (scenariodoc), and writes charts, tables and documents; nothing here plays a
game::

    plots         the standard charts of a batch (endings, branch tree, fans, payoffs)
    comparison    batches compared with a baseline: differences, intervals, tests
    comparetext   a comparison as terminal text and Markdown
    compareplots  a comparison as charts
    comparefolder a comparison written to a folder (compare.json, compare.md, PNGs)
    scenariodiff  what differs between the scenarios behind two batches
    discovery     PRIM: the rule ("war in 81% of runs where ...") behind an outcome
    explanation   which parameters drive each ending and branch (explain/)
    explainpool   explain's helper processes (resamples, charts), started early
    reports       one self-contained HTML report of a batch
    scenariodoc   a scenario as a Markdown page (wargame doc; docs/scenarios/)
    wrapping      terminal text wrapped between terms, never inside ``x ≤ 0.5``

May import: :mod:`sim.batch`, :mod:`sim.engine`, :mod:`sim.language`,
:mod:`sim.errors`, :mod:`sim.version`, numpy, pandas, pyarrow, scipy, SALib and
matplotlib. Not the seminar (the two are independent) and not click or ``cli``.
Importing this package imports none of its modules (matplotlib stays unloaded until
a chart is drawn).
"""
