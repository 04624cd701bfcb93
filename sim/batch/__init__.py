"""Batches: play a scenario many times and write a self-describing results folder.

A batch is the engine run over blocks of runs, and its product is a folder::

    options    BatchOptions (runs, seed, chunking, executor), --set values checked
    designs    experimental designs (LHS, Sobol, grid) fixing parameters run by run
    tasks      what a worker plays: runs start..stop-1, in blocks, as Arrow tables
    executors  where tasks play: in-process, a local process pool, or Dask
    results    the results folder: atomic writes, parts, merging, reading it back
    summary    probabilities with Wilson intervals, payoffs; the summary table
    runner     run_batch: prepare the folder, plan, execute, merge, finish
    sweep      a batch over a design: sweep_options and sweep

May import: :mod:`sim.engine`, :mod:`sim.language`, :mod:`sim.errors`,
:mod:`sim.version`, numpy, pyarrow, SALib and (for ``--executor dask``) Dask. Never
analysis, the seminar, matplotlib or click: a batch writes its folder and summary,
and whoever ran it asks for plots (:mod:`sim.api`). Importing this package imports
none of its modules.
"""
