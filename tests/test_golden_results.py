"""The same seed gives the same files, release after release: a golden record.

tests/golden/results_sha256.json holds the sha256 of runs.parquet, rounds.parquet and
choices.parquet of tiny.yaml (level-k and learned beliefs) and of the textbook chicken
game (a logit equilibrium), 3,000 runs at seed 42, as this program wrote them when the
record was made, and a hash of their contents. Work that should only make things
faster (imports, plots, executors, writing) must leave both unchanged. A change to the
engine's results on purpose regenerates the record:

    python -m tests.test_golden_results

The bytes depend on the Arrow version that writes them (its name is in each file), so
they are compared only under the recorded pyarrow version; the contents always are.
"""

import hashlib
import json
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq
import pytest

from sim.api import run_batch
from sim.batch.options import BatchOptions
from sim.engine.loading import load

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "results_sha256.json"
SCENARIOS = {"tiny": "tests/scenarios/tiny.yaml", "chicken": "scenarios/textbook/chicken.yaml"}
FILES = ("runs.parquet", "rounds.parquet", "choices.parquet")
RUNS, SEED = 3000, 42


def fingerprints(folder: Path) -> dict[str, dict[str, str]]:
    found = {}
    for name in FILES:
        path = folder / name
        table = pq.read_table(path)
        content = json.dumps(
            {"schema": [str(f.type) + " " + f.name for f in table.schema],
             "columns": table.to_pydict()},
            default=str,
        )  # fmt: skip
        found[name] = {
            "bytes": hashlib.sha256(path.read_bytes()).hexdigest(),
            "content": hashlib.sha256(content.encode()).hexdigest(),
        }
    return found


def play(name: str, out: Path, **options) -> Path:
    compiled = load(ROOT / SCENARIOS[name])
    run_batch(compiled, out, BatchOptions(runs=RUNS, seed=SEED, plots=False, **options))
    return out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_batch_writes_the_recorded_files(name, tmp_path):
    golden = json.loads(GOLDEN.read_text())
    found = fingerprints(play(name, tmp_path / name))
    for file in FILES:
        assert found[file]["content"] == golden[name][file]["content"], (name, file)
        if pyarrow.__version__ == golden["pyarrow"]:
            assert found[file]["bytes"] == golden[name][file]["bytes"], (name, file)


def test_a_process_pool_writes_the_recorded_bytes(tmp_path):
    golden = json.loads(GOLDEN.read_text())
    out = play("tiny", tmp_path / "pool", executor="process", workers=2, chunk_size=700)
    found = fingerprints(out)
    # The contents always; the bytes where this pyarrow is the one that recorded them
    # (another version may encode the same table differently), never a skip.
    kinds = ["content", "bytes"] if pyarrow.__version__ == golden["pyarrow"] else ["content"]
    for kind in kinds:
        assert {f: found[f][kind] for f in FILES} == {f: golden["tiny"][f][kind] for f in FILES}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        record = {"pyarrow": pyarrow.__version__}
        for name in sorted(SCENARIOS):
            record[name] = fingerprints(play(name, Path(work) / name))
    GOLDEN.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
