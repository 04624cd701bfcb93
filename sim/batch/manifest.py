"""The manifest of a results folder: its schema, its checksum and the files it vouches for.

A results folder is trusted only as far as its manifest says, so the manifest is
checked before anything is read from the folder:

- its **shape**, against the pydantic models below (a key missing, ``runs`` written as
  a string, the manifest a list): one line naming the key;
- its **checksum**: the batch writes the sha256 of the manifest's other fields
  (canonical JSON) into ``checksum``, so a seed, a ``--set`` value or a run count edited
  afterwards is caught; otherwise a replay would narrate another game than row K, and a
  comparison would pair batches that do not pair;
- the **files** it names: the sha256 and size of ``runs.parquet``, ``rounds.parquet``,
  ``choices.parquet``, ``summary.json`` and ``scenario.yaml`` are recorded when they
  are written, so a
  flipped byte, a truncated file or a file from another batch is caught before it is
  analysed (:class:`~sim.batch.results.Results` checks them).

Every problem is a :class:`~sim.errors.ResultsError`: one line, exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ResultsError

RESULTS_FORMAT = "wargame-results/2"
#: Results folders of earlier versions: recognised (never written into), not read.
OLD_FORMATS = ("wargame-results/1",)
#: Files whose sha256 the manifest records.
HASHED_FILES = (
    "scenario.yaml",
    "runs.parquet",
    "rounds.parquet",
    "choices.parquet",
    "summary.json",
)

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Model(BaseModel):
    # Strict: "runs": "200" is damage, not a number. Unknown keys are kept (a newer
    # version may add some); the checksum covers them all the same.
    model_config = ConfigDict(strict=True, extra="allow")


class Program(_Model):
    """The program that wrote the batch."""

    name: str
    version: str


class ScenarioRecord(_Model):
    """The scenario as run: its text and fingerprint."""

    id: str
    title: str
    path: str
    sha256: Sha256
    text: str


class LayoutActor(_Model):
    """An actor as the charts and tables name it (and its actions, in order)."""

    id: str
    name: str
    reasoning: str = "myopic"
    foresight: int = 0
    actions: list[str] = []


class LayoutBranch(_Model):
    """A branch and its outcomes."""

    id: str
    round: int | None = None
    outcomes: list[str] = Field(min_length=1)
    text: str = ""


class LayoutEnding(_Model):
    """An ending."""

    id: str
    title: str = ""


class LayoutMetric(_Model):
    """A metric."""

    id: str
    title: str = ""
    unit: str = ""


class Layout(_Model):
    """The scenario's structure, as plots, comparisons and reports read it."""

    start_date: str
    round_days: int
    rounds: int = Field(ge=1)
    sources: list[dict[str, Any]] = []
    parameters: list[dict[str, Any]] = []
    actors: list[LayoutActor] = Field(min_length=1)
    stops: bool = False
    equilibrium: bool = False
    branches: list[LayoutBranch] = []
    endings: list[LayoutEnding] = Field(min_length=1)
    metrics: list[LayoutMetric] = []
    commitments: list[str] = []


class FileRecord(_Model):
    """A file the batch wrote: its size and sha256."""

    bytes: int = Field(ge=0)
    sha256: Sha256


class DesignRecord(_Model):
    """A sweep's design (see :meth:`sim.batch.designs.Design.describe`)."""

    kind: Literal["lhs", "sobol", "grid"]
    params: list[str] = Field(min_length=1)
    n: int
    seed: int
    runs: int = Field(ge=1)


class Manifest(_Model):
    """The manifest of a results folder (``manifest.json``)."""

    format: Literal["wargame-results/2"]
    status: Literal["running", "complete"]
    program: Program
    scenario: ScenarioRecord
    seed: int = Field(ge=0, lt=2**63)
    runs: int = Field(ge=1)
    chunk_size: int = Field(ge=1)
    executor: str
    scheduler: str | None = None
    workers: int = Field(ge=0)
    overrides: dict[str, float]
    settings: dict[str, Any]
    keep_rounds: bool
    command_line: list[str]
    started: str
    layout: Layout
    design: DesignRecord | None = None
    finished: str | None = None
    timings: dict[str, float | None] | None = None
    files: dict[str, FileRecord] = {}
    checksum: str


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the bytes a checksum is taken of."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def checksum_of(manifest: dict[str, Any]) -> str:
    """The checksum of a manifest: sha256 of its fields but ``checksum`` itself."""
    fields = {k: v for k, v in manifest.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(canonical_json(fields)).hexdigest()


def sealed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its checksum (computed over every other field), last."""
    fields = {k: v for k, v in manifest.items() if k != "checksum"}
    return {**fields, "checksum": checksum_of(fields)}


_HASHES: dict[tuple[str, int, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (kept per path, size and mtime in this process)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    found = _HASHES.get(key)
    if found is None:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
        found = _HASHES[key] = digest.hexdigest()
    return found


def file_record(path: Path) -> dict[str, Any]:
    """What the manifest records of a file the batch wrote."""
    return {"bytes": path.stat().st_size, "sha256": file_sha256(path)}


def is_results_manifest(path: Path) -> bool:
    """Whether ``path`` is a wargame results manifest (any version, damaged or not).

    A folder is recognised as a results folder by this, never by the name alone: a
    ``manifest.json`` of some other program does not make a folder a batch's.
    """
    try:
        with path.open("rb") as file:
            head = file.read(1 << 16)
    except OSError:
        return False
    return b'"wargame-results/' in head and head.lstrip().startswith(b"{")


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"'{where}' is missing"
    given = error.get("input")
    shown = type(given).__name__ if not isinstance(given, str | int | float) else repr(given)
    if isinstance(given, str) and len(given) > 40:
        shown = "a string"
    message = error["msg"][0].lower() + error["msg"][1:]
    return f"'{where}': {message} (got {shown})" if where else message


def check_manifest(data: Any, where: Path) -> dict[str, Any]:
    """Check a manifest's shape and checksum.

    Args:
        data: The manifest as read from JSON.
        where: The manifest's path, for messages.

    Returns:
        The manifest (as a dict, unchanged).

    Raises:
        ResultsError: On the first problem, in one line.
    """
    if not isinstance(data, dict):
        raise ResultsError(f"{where}: damaged manifest (a JSON object was expected)")
    fmt = data.get("format")
    if fmt in OLD_FORMATS:
        raise ResultsError(
            f"{where}: written by an earlier wargame ({fmt}, without file checksums); "
            "play the batch again to analyse it with this version"
        )
    if fmt != RESULTS_FORMAT:
        raise ResultsError(f"{where}: not a {RESULTS_FORMAT} manifest (format {fmt!r})")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ResultsError(f"{where}: damaged manifest: {_describe(exc.errors()[0])}") from None
    if manifest.checksum != checksum_of(data):
        raise ResultsError(
            f"{where}: changed after the batch wrote it (its checksum does not match); "
            "restore it or play the batch again"
        )
    text_sha = hashlib.sha256(manifest.scenario.text.encode("utf-8")).hexdigest()
    if text_sha != manifest.scenario.sha256:
        raise ResultsError(f"{where}: the scenario text does not match its sha256")
    if manifest.design is not None and manifest.design.runs != manifest.runs:
        raise ResultsError(f"{where}: damaged manifest: the design's runs differ from 'runs'")
    if manifest.status == "complete":
        needed = ["scenario.yaml", "runs.parquet", "summary.json"]
        needed += ["rounds.parquet", "choices.parquet"] if manifest.keep_rounds else []
        missing = [name for name in needed if name not in manifest.files]
        if missing or manifest.timings is None:
            what = f"no checksum of {missing[0]}" if missing else "no timings"
            raise ResultsError(f"{where}: damaged manifest: a finished batch with {what}")
    return data


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check ``folder/manifest.json`` (see :func:`check_manifest`).

    Raises:
        ResultsError: If the folder is not a results folder or its manifest is damaged.
    """
    path = folder / "manifest.json"
    if not path.is_file():
        raise ResultsError(f"{folder}: not a results folder (no manifest.json)")
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsError(f"{path}: damaged manifest (not readable JSON: {why})") from None
    return check_manifest(data, path)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Seal the manifest with its checksum and write it atomically; return it sealed."""
    final = sealed(manifest)
    manifest.clear()
    manifest.update(final)
    path = folder / "manifest.json"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    text = json.dumps(final, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return manifest
