"""Batches: play a scenario many times and write a self-describing results folder.

May import: :mod:`sim.engine`, :mod:`sim.language`, :mod:`sim.errors`,
:mod:`sim.version`, numpy, pyarrow, SALib and (for ``--executor dask``) Dask. Never
analysis, the seminar, matplotlib or click: a batch writes its folder and summary,
and whoever ran it asks for plots (:mod:`sim.api`). Importing this package imports
none of its modules.
"""
