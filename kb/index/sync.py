"""``kb ingest --sync``: the files given are the truth for their kinds.

Every stored document of a kind the files hold (FAQ, cases, manual sections, directory
entries, life-event procedures as ``procedure:ID``), or of ``--kind``, that none of the files
has any more is removed, through the same path as ``kb delete``
(:func:`kb.index.remove.remove_locked`). The desk's cases (closed consultation records,
``case:desk-R000001``) come from no file and are never removed by a sync. ``--dry-run`` lists
what would be added, changed and removed without writing anything.

Nothing is removed when the read was not complete: a file that could not be read, or a single
row refused (bad date, missing field, an id with personal data), means the ids of that file are
not known for sure, and a half-read file must not wipe the corpus. The good rows are stored as
usual; the command says so and exits non-zero. Nothing is removed either, without ``force``,
when it would remove every stored document of a kind, or more than half of more than
:data:`MASS_MIN` of them: that is most often a partial export (one year's cases of several)
rather than the city's intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.ingest.pipeline import IngestReport
from kb.messages import msg
from kb.store import Store
from kb.store.procedures import ID_PREFIX, procedure_ref
from kb.store.records import reserved_case_id
from kb.types import DocId, DocKind

PROCEDURE = ID_PREFIX.rstrip(":")
"""The kind of a procedures file: its rows are synced as ``procedure:ID``."""
MASS_MIN = 10
"""More removals than this (and over half of a kind) need ``force``."""


@dataclass(frozen=True)
class SyncPlan:
    """What ``--sync`` removes (or would, or refused to)."""

    kinds: tuple[str, ...]
    """The kinds the files are the truth for."""
    remove: tuple[str, ...]
    """Stored ids of those kinds that the files lack."""
    refused: str = ""
    """Why nothing is removed (incomplete read, mass removal); empty: ``remove`` goes."""

    @property
    def removes(self) -> tuple[str, ...]:
        """The ids that are actually removed: ``remove`` unless refused."""
        return () if self.refused else self.remove


def plan_sync(
    store: Store, report: IngestReport, *, kind: DocKind | None = None, force: bool = False
) -> SyncPlan:
    """What ``--sync`` removes after the ingest ``report`` (its ingest, or its dry run).

    Args:
        store: The live store.
        report: The ingest of the files (``doc_ids``: every document read and kept).
        kind: The ``--kind`` given: that kind is synced even if the files held none of it.
        force: Allow removing all of a kind, or most of a large one.
    """
    read = set(report.doc_ids) | {procedure_ref(p) for p in report.procedure_ids}
    kinds: list[str] = sorted({DocId.kind_of(i) for i in read} | ({kind} if kind else set()))
    remove: list[str] = []
    stored_per_kind: dict[str, int] = {}
    for k in kinds:
        have = _stored(store, k)
        stored_per_kind[k] = len(have)
        remove.extend(i for i in have if i not in read)
    plan = SyncPlan(tuple(kinds), tuple(remove))
    problems = len(report.errors) + len(report.failed_files)
    if problems:
        return SyncPlan(plan.kinds, plan.remove, msg("sync.incomplete", n=problems))
    if not kinds:
        return SyncPlan((), (), msg("sync.nothing_read"))
    if not force:
        for k in kinds:
            n = sum(1 for i in remove if DocId.kind_of(i) == k)
            stored = stored_per_kind[k]
            if n and (n == stored or (n > MASS_MIN and 2 * n > stored)):
                return SyncPlan(
                    plan.kinds, plan.remove, msg("sync.mass", kind=k, n=n, stored=stored)
                )
    return plan


def _stored(store: Store, kind: str) -> list[str]:
    """The stored ids of ``kind`` that a file can be the truth for.

    The desk's cases (``case:desk-R000001``, closed consultation records) come from no file:
    a city's case export never lists them, and syncing it must not erase them. Procedures are
    named ``procedure:ID``.
    """
    if kind == PROCEDURE:
        return [procedure_ref(p.id) for p in store.procedures()]
    have = store.document_ids(kind)  # type: ignore[arg-type]
    if kind == "case":
        return [i for i in have if not reserved_case_id(DocId.local_of(i))]
    return have


def describe_plan(report: IngestReport, plan: SyncPlan | None) -> list[str]:
    """The lines ``kb ingest --dry-run`` prints: each id that would be added, changed, removed."""
    keys = {"added": "sync.plan_added", "updated": "sync.plan_updated"}
    lines = [
        msg(keys[change], id=doc_id) if change in keys else f"  {change}: {doc_id}"
        for doc_id, change in report.planned
    ]
    if plan is not None:
        lines.extend(msg("sync.plan_removed", id=doc_id) for doc_id in plan.remove)
    return lines


__all__ = ["MASS_MIN", "SyncPlan", "describe_plan", "plan_sync"]
