"""explain on a scenario whose drivers are known by construction: crisis iff pressure >
0.7, the vote passes iff support > 0.4, everything else noise."""

import json
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

from cli import cli
from sim.analysis.discovery import prim
from sim.analysis.explanation import entropy_bits, explain, load_explanation, mutual_information
from sim.api import run_batch, sweep
from sim.batch.options import BatchOptions
from sim.engine.loading import load
from sim.errors import OptionsError, ResultsError
from tests.conftest import TESTS

KNOWN = TESTS / "scenarios" / "known_driver.yaml"
NOISE = ("noise_a", "noise_b", "mood")


def target(found, outcome_id):
    return next(t for t in found["targets"] if t["id"] == outcome_id)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain") / "mc"
    options = BatchOptions(runs=4000, seed=11, plots=False, keep_rounds=False)
    return run_batch(load(KNOWN), folder, options).folder


@pytest.fixture(scope="module")
def found(batch):
    return explain(batch)


@pytest.fixture(scope="module")
def sobol_found(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain") / "sobol"
    # N = 512 base samples, D = 5 parameters: 512 * 12 = 6,144 runs.
    sweep(KNOWN, "sobol", 512, seed=5, out=folder, plots=False, keep_rounds=False)
    return explain(folder, ending="crisis")


def test_the_driver_of_the_ending_ranks_first_and_above_its_noise_floor(found):
    crisis = target(found, "crisis")
    first = crisis["ranking"][0]
    assert first["parameter"] == "pressure"
    assert first["above_noise"]
    assert first["direction"] == "+"
    # pressure decides the ending, so it removes nearly all of its uncertainty:
    # H(crisis) = H(0.3) ≈ 0.88 bits, and binning at ~16 quantiles loses at most one bin.
    assert first["share_of_uncertainty"] > 0.85
    for row in crisis["ranking"][1:]:
        assert row["mi_bits"] < first["mi_bits"] / 50


def test_the_driver_of_the_branch_ranks_first(found):
    passed = target(found, "vote=passed")
    assert passed["kind"] == "branch"
    assert passed["ranking"][0]["parameter"] == "support"


def test_prim_box_is_pressure_above_about_0_7(found):
    rule = target(found, "crisis")["rule"]
    restrictions = rule["box"]["restrictions"]
    assert [r["parameter"] for r in restrictions] == ["pressure"]
    assert restrictions[0]["low"] == pytest.approx(0.7, abs=0.05)
    assert restrictions[0]["high"] is None
    # Inside pressure > ~0.7 nearly every run is a crisis and nearly every crisis is inside.
    assert rule["box"]["density"] > 0.9
    assert rule["box"]["coverage"] > 0.9
    assert rule["text"].startswith("Crisis in ")
    assert re.search(r"where pressure ≥ 0\.(6[5-9]|7[0-5])\d*, covering", rule["text"])
    assert "covering" in rule["text"]


def test_prim_box_for_the_branch_is_support_above_about_0_4(found):
    restrictions = target(found, "vote=passed")["rule"]["box"]["restrictions"]
    assert [r["parameter"] for r in restrictions] == ["support"]
    assert restrictions[0]["low"] == pytest.approx(0.4, abs=0.05)


def test_sobol_indices_put_the_variance_on_the_driver(sobol_found):
    indices = target(sobol_found, "crisis")["sobol"]
    assert sobol_found["sobol"]["runs"] == 512 * 12
    pressure = indices["pressure"]
    assert pressure["S1"] > 0.6
    assert pressure["ST"] > 0.6
    # Each estimate comes with the half-width of its 95% bootstrap interval.
    for name in ("pressure", *NOISE, "support"):
        for key in ("S1_conf", "ST_conf"):
            assert math.isfinite(indices[name][key])
            assert 0 <= indices[name][key] < 0.3
    for name in (*NOISE, "support"):
        assert abs(indices[name]["S1"]) < 0.1
        assert abs(indices[name]["ST"]) < 0.1


def test_tornado_charts_and_explain_json_are_written(batch, found):
    folder = batch / "explain"
    for entry in found["targets"]:
        png = folder / entry["tornado"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "tornado_crisis.png").is_file()
    assert (folder / "tornado_branch_vote_passed.png").is_file()
    stored = json.loads((folder / "explain.json").read_text())
    assert stored["targets"][0]["ranking"][0]["parameter"] == "pressure"
    assert "Mutual information" in stored["methods"]["ranking"]
    assert load_explanation(batch) is not None


def test_mutual_information_is_zero_for_independence_and_the_entropy_for_identity():
    y = np.array([0, 1] * 500)
    assert mutual_information(np.zeros(1000, dtype=int), 1, y) == 0.0
    assert mutual_information(y, 2, y) == pytest.approx(entropy_bits(0.5)) == pytest.approx(1.0)


def test_prim_finds_a_categorical_rule():
    rng = np.random.default_rng(0)
    n = 6000
    mood = rng.integers(0, 3, n)
    x = rng.random(n)
    outcome = rng.random(n) < np.where(mood == 2, 0.8, 0.1)
    found = prim({"x": x}, {"mood": (mood, ("calm", "tense", "angry"))}, outcome)
    assert [r.text() for r in found.box.restrictions] == ["mood = angry"]
    assert found.box.density == pytest.approx(0.8, abs=0.03)


def test_restricting_to_one_ending_and_bad_names(batch, tmp_path):
    only = explain(batch, ending="calm", out=tmp_path / "e", plots=False)
    assert [t["id"] for t in only["targets"]] == ["calm"]
    with pytest.raises(OptionsError, match="did you mean 'crisis'"):
        explain(batch, ending="crisiss", out=tmp_path / "e")
    with pytest.raises(ResultsError):
        explain(tmp_path / "nothing-here")


def test_cli_explain_prints_ranking_and_rule(batch, tmp_path):
    result = CliRunner().invoke(
        cli, ["explain", str(batch), "--ending", "crisis", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 0, result.output
    assert "1 pressure" in result.output
    assert "Rule: Crisis in" in result.output
    bad = CliRunner().invoke(cli, ["explain", str(batch), "--branch", "nope"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
