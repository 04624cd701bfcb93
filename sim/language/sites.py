"""Draw sites: the stable name of every place in a scenario that draws a random number.

A random term in an expression (``normal(0, 1)`` in an action's cost), a parameter, an
actor's choice and a branch each draw from their own stream, keyed by a 63-bit hash of
a name such as ``"parameters.aid_cut"``, ``"choice.US"`` or
``"actors.US.actions.talk.cost#0"`` (the YAML path of the expression). The key
depends on the name only, so adding a random term in one place never shifts the draws
of another. The compiler names sites; the engine's streams (:mod:`sim.engine.streams`)
turn (seed, run, site, round) into numbers.
"""

from __future__ import annotations

import hashlib


def site_key(name: str) -> int:
    """A stable 63-bit key for a named draw site (same on every machine and version)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1
