"""Who may do what in a classroom: one random token per link, one role per token.

Like NetLogo HubNet's clients, every device in the room has a role: the facilitator
(the lecturer: paces the game, reveals rounds, overrides, saves), the projector (reads
only), one team per people-played actor (chooses for that actor only, and sees only its
own choice before the reveal), and the students (predict, each under a name). A role is
carried by a link: each link holds its own random token, so knowing the projector's link
does not give a team's, and a team's link does not give another team's.

:class:`Tokens` makes the tokens and tells a token's role; :func:`allowed` is the one
rule table every request goes through.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from sim.errors import WargameError

FACILITATOR = "facilitator"
PROJECTOR = "projector"
TEAM = "team"
STUDENT = "student"

#: What each role may do. A team's actions also need the actor to be its own.
_ALLOWED = {
    FACILITATOR: {
        "view",
        "timer",
        "reveal",
        "next",
        "back",
        "fork",
        "override",
        "save",
        "load",
        "end",
        "export",
        "debrief",
    },
    PROJECTOR: {"view", "debrief"},
    TEAM: {"view", "choose", "decide"},
    STUDENT: {"view", "predict"},
}


class Forbidden(WargameError):  # noqa: N818 (named for the HTTP answer it becomes)
    """A token asked for something its role may not do (HTTP 403)."""


class UnknownToken(WargameError):  # noqa: N818
    """A request carried no token, or one this classroom never issued (HTTP 403)."""


@dataclass(frozen=True)
class Role:
    """What a token stands for.

    Attributes:
        kind: ``facilitator``, ``projector``, ``team`` or ``student``.
        actor: The team's actor id (``None`` for the other roles).
    """

    kind: str
    actor: str | None = None

    @property
    def label(self) -> str:
        """A name for the role, e.g. ``team US``."""
        return f"team {self.actor}" if self.kind == TEAM else self.kind


def allowed(role: Role, action: str, actor: str | None = None) -> bool:
    """Whether a role may do an action (for a team action: for this actor).

    Args:
        role: The token's role.
        action: What it asks to do (``view``, ``choose``, ``reveal``, ...).
        actor: The actor the action is for, where it is for one.
    """
    if action not in _ALLOWED[role.kind]:
        return False
    return not (role.kind == TEAM and action in ("choose", "decide") and actor != role.actor)


def check(role: Role, action: str, actor: str | None = None) -> None:
    """Raise :class:`Forbidden` unless ``role`` may do ``action`` (for ``actor``)."""
    if not allowed(role, action, actor):
        target = f" for {actor}" if actor else ""
        raise Forbidden(f"the {role.label} link may not {action}{target}")


class Tokens:
    """The tokens of one classroom: one per link, each random, each with its role.

    Args:
        teams: The actors people play (one team link each).
    """

    def __init__(self, teams: tuple[str, ...]):
        self._roles: dict[str, Role] = {}
        self.facilitator = self._issue(Role(FACILITATOR))
        self.projector = self._issue(Role(PROJECTOR))
        self.student = self._issue(Role(STUDENT))
        self.teams = {actor: self._issue(Role(TEAM, actor)) for actor in teams}

    def _issue(self, role: Role) -> str:
        token = secrets.token_urlsafe(12)
        self._roles[token] = role
        return token

    def role(self, token: str | None) -> Role:
        """The role of a token.

        Raises:
            UnknownToken: If the token is missing or was not issued here.
        """
        if token:
            for known, role in self._roles.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    return role
        raise UnknownToken(
            "this link is not one of this classroom's links (if the server was restarted, "
            "use the new link or QR code it shows)"
        )
