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
