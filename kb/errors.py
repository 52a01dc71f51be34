"""The exception tree of kb.

::

    KBError
    ├── InputError            bad input file (message names file, line and field)
    │   └── SchemaError       missing / unknown columns, undetectable kind
    ├── ModelError            embedding model missing, unloadable or mismatched
    ├── IndexError_           no index, or an index that does not match the store/model
    │   ├── ManifestMismatch  index built with another model / tokenizer / normalizer
    │   └── StaleBuild        a build of an older store snapshot than the serving index's
    ├── QueryError            empty, whitespace-only or over-long query, bad filters
    ├── AccessError           API keys: unknown role, duplicate or unknown key name
    ├── BusyError             another ingest, build, approval or deletion is writing
    ├── AuditError            audit log: key missing, unreadable or wrong; anchor not writable
    ├── TrainerError          trainer tools: unknown department, topic or FAQ candidate
    │   └── FaqRefused        FAQ lifecycle: bad field, wrong state, approver not allowed
    ├── DocumentNotFound      kb delete / DELETE .../documents/{id}: no such document id
    ├── BackupError           kb backup / restore: corrupt or mismatched backup, live target
    ├── ClusterError          --ray: Ray missing, cluster unreachable, a replica or worker failed
    └── DeskError             consultation records and hand-offs: bad field, unknown, closed

Only the API layer turns these into HTTP errors; the CLI prints them without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Base class of every error kb raises on purpose."""


class InputError(KBError):
    """An input file cannot be read at all (wrong encoding, not a DOCX, empty...)."""

    def __init__(self, source: str, message: str, line: int = 0, field: str = "") -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class SchemaError(InputError):
    """The columns of a file do not match the schema of its kind."""


class ModelError(KBError):
    """The embedding model cannot be found, built or loaded."""


class IndexError_(KBError):
    """There is no usable index."""


class ManifestMismatch(IndexError_):
    """The index on disk was built with another model, tokenizer or normalizer."""


class StaleBuild(IndexError_):
    """A finished build holds an older store snapshot than the serving index; it was discarded.

    The serving index, built from a later generation of the store, already holds everything
    the discarded build had: nothing is lost, and nothing needs to be redone.
    """

    def __init__(
        self, message: str, *, serving: Path, generation: int, serving_generation: int
    ) -> None:
        self.serving = serving
        self.generation = generation
        self.serving_generation = serving_generation
        super().__init__(message)


class QueryError(KBError):
    """The query or its filters are not acceptable."""


class AccessError(KBError):
    """An API key cannot be created or revoked (bad name or role, duplicate, unknown key).

    ``reason`` says why, for the API's status: ``invalid`` (422), ``conflict`` (an active key
    of that name exists: 409), ``not_found`` (no active key of that name: 404).
    """

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class AuditError(KBError):
    """The audit log cannot be written or checked: its key or anchor file is missing or unusable."""


class BusyError(KBError):
    """Another ingest, build, approval or deletion holds the writer lock (:mod:`kb.index.lock`)."""


class TrainerError(KBError):
    """A trainer tool was asked for something that does not exist (department, topic, candidate)."""


class FaqRefused(TrainerError):
    """An FAQ candidate or entry cannot be changed so now (:mod:`kb.trainer.lifecycle`).

    ``reason`` says why, so the API can answer with the right status: ``invalid`` (a field is
    wrong: 422), ``conflict`` (already approved or rejected, or approved by the same person
    before: 409), ``forbidden`` (whoever drafted or last edited it cannot publish it: 403).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class DeskError(KBError):
    """A consultation record or hand-off request cannot be done (:mod:`kb.desk`).

    ``reason`` says why, so the API can answer with the right status: ``invalid`` (a field is
    wrong: 422), ``not_found`` (no such record or hand-off: 404), ``closed`` (the record is
    完了 already: 409), ``conflict`` (other staff kept changing it: 409), ``unavailable`` (no
    store or index to write to: 503).
    """

    def __init__(self, message: str, reason: str = "invalid") -> None:
        self.reason = reason
        super().__init__(message)


class DocumentNotFound(KBError):
    """A document id given to delete is not stored (:mod:`kb.index.remove`); nothing changed.

    ``ids`` are the ids that were not found.
    """

    def __init__(self, message: str, ids: tuple[str, ...]) -> None:
        self.ids = ids
        super().__init__(message)


class BackupError(KBError):
    """A backup cannot be made or restored (:mod:`kb.ops`): a file that fails its checksum, a
    backup of another model, a live data folder in the way. Nothing was written."""


class ClusterError(KBError):
    """``--ray`` (:mod:`kb.scale`): Ray is not installed, the cluster cannot be reached or
    started, or its replicas or embedding workers failed. Nothing was switched in."""
