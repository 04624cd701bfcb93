"""The seminar: one game at a time, round by round, with people in actors' seats.

The seminar plays the engine's R = 1 case: the same :class:`~sim.engine.model.WargameModel`
a batch uses, kept with its history so every round can be told and explained::

    transcript  one game told as text, round by round, and as plain data
    replay      run K of a batch re-played exactly from its results folder
    game        a seminar game: people's choices, predictions, undo, fork, save
    handout     a whole game as a Markdown or self-contained HTML document
    stepper     the terminal session that drives a game in front of a room

May import: :mod:`sim.batch` (to open a batch's run), :mod:`sim.engine`,
:mod:`sim.language`, :mod:`sim.errors`, :mod:`sim.version`, numpy, pyarrow and click
(the stepper's terminal). Not analysis (the two are independent) and not ``cli``.
Importing this package imports none of its modules.
"""
