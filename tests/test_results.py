"""The results folder: merged files with fixed row groups, no half-written files."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim.batch.results
from sim.batch.results import merge_parts


def write_parts(folder, sizes):
    paths, start = [], 0
    for i, size in enumerate(sizes):
        path = folder / f"part-{i}.parquet"
        pq.write_table(pa.table({"run": list(range(start, start + size))}), path)
        paths.append(path)
        start += size
    return paths


def test_merged_bytes_do_not_depend_on_how_the_parts_were_cut(tmp_path):
    a = write_parts(tmp_path, [5, 7, 11, 2])
    (tmp_path / "b").mkdir()
    b = write_parts(tmp_path / "b", [25])
    assert merge_parts(a, tmp_path / "a.parquet", row_group_size=4) == 25
    assert merge_parts(b, tmp_path / "b.parquet", row_group_size=4) == 25
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert pq.read_table(tmp_path / "a.parquet").column("run").to_pylist() == list(range(25))
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 7


def test_an_interrupted_merge_leaves_no_temporary_file(tmp_path, monkeypatch):
    parts = write_parts(tmp_path, [3, 3, 3])
    read = pq.read_table
    calls = []

    def interrupted(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return read(path, *args, **kwargs)

    monkeypatch.setattr(sim.batch.results.pq, "read_table", interrupted)
    out = tmp_path / "merged"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        merge_parts(parts, out / "runs.parquet", row_group_size=2)
    assert list(out.iterdir()) == []


def test_arrow_columns_equal_pa_array_without_importing_pandas():
    """Results columns built from buffers equal ``pa.array``'s (same type, same values)."""
    import numpy as np

    from sim.batch.tasks import arrow_column

    cases = [
        np.array(["summit_success", "", "é", "summit_success"], dtype=object),
        np.arange(7, dtype=np.int64),
        np.arange(7, dtype=np.int16)[::2],
        np.linspace(-1, 1, 5).astype(np.float32),
        np.array([np.inf, -0.0, 1e300]),
        np.array([True, False]),
        np.array([1, None], dtype=object),
    ]
    for values in cases:
        built, reference = arrow_column(values), pa.array(values)
        assert built.type == reference.type
        assert built.equals(reference)
        assert built.buffers()[1:] == reference.buffers()[1:] or values.dtype == object


def test_playing_a_task_and_writing_its_part_import_no_pandas():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; from pathlib import Path; from sim.batch.tasks import play_task\n"
        "text = Path('scenarios/textbook/mixed_2x2.yaml').read_text()\n"
        "import tempfile; from sim.batch.results import read_part, write_part\n"
        "start, runs, rounds, choices = play_task(text, 'm.yaml', 1, 0, 200, 100, {}, True)\n"
        "parts = Path(tempfile.mkdtemp()); write_part(parts, 0, runs, rounds, choices)\n"
        "assert read_part(parts / 'runs-000000000000.arrow').equals(runs)\n"
        "print('pandas' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_as_numpy_equals_to_numpy():
    """Columns read from their buffers equal to_numpy's (offsets, chunks, nulls, empty)."""
    import numpy as np

    from sim.batch.summary import as_numpy

    floats = pa.array(np.linspace(0, 1, 11))
    cases = [
        floats,
        floats.slice(3, 5),
        pa.chunked_array([floats.slice(2, 4), pa.array(np.arange(3.0))]),
        pa.chunked_array([pa.array(np.arange(5, dtype=np.int16))]),
        pa.array(np.arange(4, dtype=np.uint8)),
        pa.array([1.0, None, 3.0]),
        pa.array(["a", "b"]),
        pa.chunked_array([], type=pa.float64()),
        pa.array(np.zeros(0)),
    ]
    for data in cases:
        built, reference = as_numpy(data), data.to_numpy(zero_copy_only=False)
        assert built.dtype == reference.dtype, data
        np.testing.assert_array_equal(built, reference)


def test_read_run_rows_equals_a_filtered_read(tmp_path):
    import numpy as np

    from sim.batch.results import write_parquet
    from sim.batch.summary import read_run_rows

    runs = np.r_[np.arange(0, 50), np.arange(80, 130)]
    table = pa.table({"run": runs, "x": runs * 0.5, "name": [f"r{r}" for r in runs]})
    path = tmp_path / "runs.parquet"
    write_parquet(path, table, row_group_size=16)
    assert pq.ParquetFile(path).metadata.num_row_groups == 7
    for run in (0, 15, 16, 49, 50, 79, 80, 129, 130, -1):
        for columns in (None, ["run", "name"]):
            found = read_run_rows(path, run, columns)
            wanted = pq.read_table(path, columns=columns, filters=[("run", "==", run)])
            assert found.equals(wanted), (run, columns)
