"""The classroom: one seminar game served to a room of devices (``wargame serve``).

NetLogo HubNet's split: one model on the server, clients with roles, each seeing and
acting for its own role only, and the teacher pacing the game. Here the model is a
seminar :class:`~sim.seminar.game.Game` (the same game ``wargame step`` plays) and the
roles are the facilitator, the projector, one team per people-played actor and the
students::

    roles    tokens, one per link, and the rule table of who may do what
    room     the shared state: phases, secret choices, timer, students' predictions,
             back, fork, override, save and load, the end
    views    what each role sees, as plain JSON data
    server   the Starlette app and its uvicorn runner; the links and the QR code
    static/  the one page every device loads (HTML, CSS, a small script)

May import: :mod:`sim.seminar`, :mod:`sim.batch`, :mod:`sim.engine`,
:mod:`sim.language`, :mod:`sim.errors`, :mod:`sim.version`, numpy, and the web extra
(Starlette, uvicorn, segno). Not analysis and not ``cli``. Importing this package
imports none of its modules.
"""
