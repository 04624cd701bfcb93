"""A starter scenario: a small, commented file a new author edits into their own.

``wargame new NAME`` writes :func:`starter_scenario` to ``NAME.yaml``. The starter uses
every part of the format an author needs first (sources, parameters with a source and
a confidence, numeric and categorical state, two actors who reason about each other
and foresee a branch, a branch whose odds their moves change, an ending that stops a
run with one-off payoffs, a fallback ending, metrics) and says in comments what each
part is for. It validates with no warning and plays as it is, so an author starts from
a working game and changes it one step at a time, validating as they go.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.errors import OptionsError

_TEMPLATE = """\
# __TITLE__: a starter scenario written by `wargame new`. Edit it into your own.
#
# Every section is described in docs/scenario-format.md. Check the file after each
# change with `wargame validate __FILE__` (one FILE:LINE:COL line per problem), play
# it with `wargame run __FILE__`, step through one game with `wargame step __FILE__`,
# and print its page with `wargame doc __FILE__`.
#
# The story as written: two rivals, Blue and Red, in a crisis. Each week each of them
# holds, negotiates or pushes; talks in week 3 may settle it; if tension reaches 9 the
# crisis turns into war and the game stops. Replace the names, numbers and sources
# with yours, and say in a comment why each number is what it is.
format: 1

scenario:
  id: __ID__                      # used in results folder names; letters, digits, _
  title: "__TITLE__"
  description: >-
    Two rivals in a crisis: each week each holds, negotiates or pushes; talks in week 3
    may settle it, and war ends the game.
  start_date: 2026-01-05          # the date of round 1
  round_days: 7                   # one round is a week
  rounds: 8
  # Every parameter and commitment cites one of these by id, with a confidence.
  sources:
    - id: starter_note
      title: Placeholder figures of the starter scenario (replace with your sources)
      date: 2026-01-01
      reliability: low            # low | medium | high
      note: Not evidence of anything; each figure is a guess to be replaced.

# Uncertain inputs, each drawn once per run. Give each a distribution that covers what
# the sources allow, a unit, a source and an honest confidence.
parameters:
  red_hawkishness:
    dist: uniform
    low: 0.2
    high: 0.8
    unit: fraction
    source: starter_note
    confidence: low
    description: How much Red's leadership values pushing over talking.
  talks_base_odds:
    dist: triangular
    low: 0.2
    mode: 0.35
    high: 0.5
    unit: probability
    source: starter_note
    confidence: low
    description: Chance the talks settle the crisis if neither side negotiates beforehand.

# What the game changes. Numeric variables have bounds (the state is clipped to them)
# and a unit; categorical ones a fixed list of values.
state:
  tension:
    initial: 3 + 2 * red_hawkishness
    min: 0
    max: 10
    unit: index 0-10
    title: Tension              # how the seminar, the classroom and the charts name it
    description: How close the crisis is to war (9 or more is war).
  talks:
    values: [pending, agreed, failed]
    initial: pending
    description: The outcome of the talks of week 3 (set by the branch 'talks').

actors:
  Blue:
    name: Blue
    # Logit rationality: 0 chooses at random, large always takes the best option.
    rationality: 2.0
    # What Blue expects Red to do this round: level-k with depth 2 expects Red to reply
    # to a Blue that looks no further than its own move (Red at level 1). Other modes:
    # myopic (nobody else moves), beliefs (the other repeats its past mix) and
    # equilibrium (both play the round's logit equilibrium).
    reasoning: level-k
    depth: 2
    # Sees the talks coming from week 1: an option that improves their odds is worth
    # the settlement's value over the rest of the game.
    foresight: 3
    payoff:
      weights: {tension: -1.0}                       # less tension is better
      expression: "4 if talks == 'agreed' else 0"    # and a settlement is worth 4 a week
    actions:
      hold:
        description: Wait and watch.
      negotiate:
        description: Offer talks and a partial concession.
        cost: 0.3
        effects:
          tension: "-= 0.5"
      push:
        description: Raise the pressure (exercises, sanctions).
        cost: 0.2
        effects:
          tension: "+= 0.8 + normal(0, 0.2)"         # random terms count at their mean
  Red:
    name: Red
    rationality: 1.0
    # Red replies to what it expects a myopic Blue to do (level 1).
    reasoning: level-k
    depth: 1
    foresight: 3
    payoff:
      # A hawkish Red likes tension; every Red likes a settlement a little less than Blue.
      weights: {tension: 0.1}
      expression: "red_hawkishness * tension + (2 if talks == 'agreed' else 0)"
    actions:
      hold:
        description: Hold positions.
      negotiate:
        description: Accept talks.
        cost: 0.3
        effects:
          tension: "-= 0.4"
      push:
        description: Mobilise and probe the border.
        cost: 0.4 * (1 - red_hawkishness)              # cheap for a hawkish leadership
        effects:
          tension: "+= 1.0"

branches:
  - id: talks
    round: 3                      # resolves in week 3, after the actors' moves
    variable: talks               # sets the state variable 'talks' to the outcome
    text: Envoys of Blue and Red meet.
    prompt: What would make each side agree?
    outcomes:
      agreed:
        # Negotiating helps, together more than alone; tension hurts. times() counts
        # the rounds so far in which an actor chose an option (this round's included).
        probability: >-
          clip(talks_base_odds
               + 0.1 * times('Blue', 'negotiate') + 0.1 * times('Red', 'negotiate')
               + 0.05 * times('Blue', 'negotiate') * times('Red', 'negotiate')
               - 0.05 * tension,
               0.05, 0.95)
        text: A framework agreement is signed.
        effects:
          tension: "-= 3"
      failed:
        probability: rest         # whatever the other outcomes leave
        text: The talks break up.
        effects:
          tension: "+= 1.5"

# Checked in order; the first that holds names the run, the last (no 'when') is the
# fallback. 'stop: true' ends a run in the first round it holds; 'payoffs' are paid
# once when a run ends that way (actors with foresight see them coming).
endings:
  - id: war
    title: War
    when: tension >= 9
    stop: true
    payoffs: {Blue: -20, Red: -10}
  - id: settlement
    title: Settlement
    when: talks == 'agreed' and tension < 5
  - id: standoff
    title: Armed standoff

# Recorded every round: the fan charts of `wargame run` show the first six.
metrics:
  - tension
  - id: war_risk
    title: Closeness to war
    expression: tension / 9
    unit: fraction
"""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def scenario_id(name: str) -> str:
    """The scenario id for a file name: ``border-crisis`` -> ``border_crisis``.

    Raises:
        OptionsError: If ``name`` does not start with a letter or holds characters other
            than letters, digits, ``-`` and ``_``.
    """
    if not _NAME.match(name):
        raise OptionsError(
            f"NAME '{name}' must start with a letter and hold only letters, digits, - and _ "
            "(it names the file and the scenario id)"
        )
    return name.replace("-", "_").lower()


def starter_scenario(name: str, file_name: str | None = None) -> str:
    """The starter scenario's text for a scenario called ``name``.

    Args:
        name: The scenario's name (``border-crisis``): its id is ``border_crisis`` and
            its title "Border crisis".
        file_name: The file name the comments tell the author to validate and run.

    Returns:
        The YAML text.
    """
    ident = scenario_id(name)
    title = name.replace("-", " ").replace("_", " ").strip().capitalize()
    text = _TEMPLATE.replace("__ID__", ident).replace("__TITLE__", title)
    return text.replace("__FILE__", file_name or f"{name}.yaml")


def write_starter(name: str, folder: str | Path = ".", *, force: bool = False) -> Path:
    """Write the starter scenario ``NAME.yaml`` into ``folder``.

    Args:
        name: The scenario's name (the file is ``<name>.yaml``).
        folder: Where to write it (created if missing).
        force: Replace an existing file of that name.

    Returns:
        The path written.

    Raises:
        OptionsError: For a bad name, or if the file exists and ``force`` is not set.
    """
    scenario_id(name)
    path = Path(folder) / f"{name}.yaml"
    if path.is_dir():
        raise OptionsError(f"{path} is a folder")
    if path.exists() and not force:
        raise OptionsError(f"{path} exists; pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(starter_scenario(name, path.as_posix()), encoding="utf-8")
    except OSError as exc:
        raise OptionsError(f"cannot write {path}: {exc.strerror}") from None
    return path
