"""Consultation records (相談記録): written at the desk, masked on save, closed into cases.

A counsellor starts a record from the consultation on screen: the citizen's words, the searches
made, notes, the channel, the departments involved and what was done. Every text is masked
with the rules ingest applies to case records (:class:`kb.ingest.redact.Redactor` with the
full profile, keeping the directory's names and phone numbers, the city's place names and the
public numbers of published FAQ), so ``records.sqlite`` never holds a citizen's personal data.

Closing a record (対応中 → 完了) stores it as the case document ``case:desk-R000001`` (a
namespace of its own, :data:`kb.store.records.CASE_PREFIX`) and builds the index the way a
trainer's FAQ approval does: under the writer lock, every unchanged chunk's vectors from the
embedding cache (and its readings from the readings cache), so only the new case is embedded
and read; the service switches to the new build on its next search.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kb.embed.embedder import Embedder
from kb.errors import DeskError
from kb.index.builder import BuildReport, build_index
from kb.index.lock import LockHolder, writer_lock
from kb.ingest.chunking import chunk_document
from kb.ingest.redact import Redactor, masker_for, phones_in
from kb.ingest.schema import channel_synonym, parse_channel, parse_date
from kb.messages import msg
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.store.records import CLOSED, OPEN, ConsultationRecord, RecordStore
from kb.text.masking import FULL
from kb.text.mecab import MeCabTokenizer
from kb.types import CASE_CHANNELS, Department, Document

MAX_WORDS_CHARS = 10_000
"""Longest citizen's words, actions or hand-off text."""
MAX_NOTES_CHARS = 100_000
"""Longest notes: a phone call's transcript may run long."""
MAX_SHORT_CHARS = 200
"""Longest category, department or outside body name."""
MAX_QUERIES = 100
"""A record keeps the latest this many searches of its consultation."""
MAX_QUERY_CHARS = 2_000
SOURCE_PREFIX = "desk:"
"""The ``source`` of a case document made from a record: ``desk:R000001``."""


@dataclass(frozen=True)
class RecordDraft:
    """What a counsellor enters or changes; ``None``: not given (kept as it is when editing)."""

    citizen_words: str | None = None
    notes: str | None = None
    actions: str | None = None
    channel: str | None = None
    category: str | None = None
    departments: Sequence[str] | None = None
    queries: Sequence[str] | None = None
    date: str | None = None


@dataclass(frozen=True)
class DeskContext:
    """The directory and the masker of the serving index (what a save is checked against)."""

    departments: Mapping[str, Department]
    redactor: Redactor

    def mask(self, text: str) -> str:
        """``text`` masked with the rules of a case record, stripped."""
        return self.redactor.text(text.strip(), FULL)

    def department(self, name: str) -> str:
        """The directory name of ``name`` (a name or an alias).

        Raises:
            DeskError: Not a department of the directory.
        """
        wanted = name.strip()
        if wanted in self.departments:
            return wanted
        for dept in self.departments.values():
            if wanted in dept.aliases:
                return dept.name
        shown = self.mask(wanted)[:40]
        raise DeskError(msg("desk.unknown_department", name=shown), "invalid")


def context_for(
    departments: Iterable[Department],
    faq_texts: Iterable[str],
    *,
    tokenizer: MeCabTokenizer | None = None,
    keep_words: Sequence[str] = (),
) -> DeskContext:
    """The context of a directory: ingest's masker (:func:`kb.ingest.redact.masker_for`).

    Args:
        departments: The department directory.
        faq_texts: Question and answer texts of published FAQ (their landlines are public).
        tokenizer: Shared MeCab tokenizer.
        keep_words: The city's place names (``settings.mask_keep_words``).
    """
    depts = list(departments)
    masker = masker_for(depts, tokenizer, keep_words, phones_in(faq_texts))
    return DeskContext({d.name: d for d in depts}, Redactor(masker))


@dataclass(frozen=True)
class Closure:
    """What closing a record did."""

    record: ConsultationRecord
    build: BuildReport
    seconds: float
    """From the call to the new index being the serving one."""


def case_document(record: ConsultationRecord) -> Document:
    """The closed case a record becomes: summary = the citizen's words, resolution = actions.

    The record's notes and searches stay on the record; the case holds what ingest's case
    columns hold (:data:`kb.ingest.schema.SPECS`), so exporting records round-trips.
    """
    return Document(
        doc_id=record.case_id,
        kind="case",
        title=record.citizen_words,
        body=record.actions,
        departments=record.departments,
        category=record.category,
        date=record.date,
        channel=record.channel,
        status=CLOSED,
        source=SOURCE_PREFIX + record.id,
    )


def _limit(name: str, value: str, most: int) -> str:
    if len(value) > most:
        raise DeskError(msg("desk.too_long", field=name, n=len(value), limit=most), "invalid")
    return value


class Desk:
    """Consultation records and hand-offs of one data directory.

    Args:
        settings: Where the data lives (``records.sqlite``, the store, the index root).
        tokenizer: Shared MeCab tokenizer (a new one if omitted).
    """

    def __init__(self, settings: Settings, tokenizer: MeCabTokenizer | None = None) -> None:
        self.settings = settings
        self.tokenizer = tokenizer or MeCabTokenizer()
        self._lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._records: RecordStore | None = None
        self._context: tuple[object, DeskContext] | None = None

    def records(self) -> RecordStore:
        """The records database, opened on first use."""
        with self._lock:
            if self._records is None:
                self._records = RecordStore(self.settings.records_path)
            return self._records

    def close_stores(self) -> None:
        with self._lock:
            if self._records is not None:
                self._records.close()
                self._records = None

    def context(self, searcher: Searcher) -> DeskContext:
        """The directory and masker of ``searcher``'s index (rebuilt when another serves)."""
        with self._lock:
            if self._context is not None and self._context[0] == searcher.folder:
                return self._context[1]
        found = context_for(
            searcher.departments.values(),
            searcher.store.published_faq_texts(),
            tokenizer=self.tokenizer,
            keep_words=self.settings.mask_keep_words,
        )
        with self._lock:
            self._context = (searcher.folder, found)
        return found

    # --- writing --------------------------------------------------------------------------

    def _apply(
        self, record: ConsultationRecord, draft: RecordDraft, ctx: DeskContext
    ) -> ConsultationRecord:
        """``record`` with ``draft``'s fields checked, masked and put in."""
        changes: dict[str, object] = {}
        for name, most in (
            ("citizen_words", MAX_WORDS_CHARS),
            ("notes", MAX_NOTES_CHARS),
            ("actions", MAX_WORDS_CHARS),
            ("category", MAX_SHORT_CHARS),
        ):
            value = getattr(draft, name)
            if value is not None:
                changes[name] = ctx.mask(_limit(msg(_LABELS[name]), value, most))
        if draft.channel is not None:
            try:
                changes["channel"] = parse_channel(draft.channel)
            except ValueError:
                # 来庁, 来所, TEL: read as an ingest reads them (kb.ingest.schema).
                synonym = channel_synonym(draft.channel)
                if synonym is None:
                    channels = "・".join(CASE_CHANNELS)
                    raise DeskError(msg("desk.channel", channels=channels), "invalid") from None
                changes["channel"] = synonym
        if draft.date is not None:
            try:
                changes["date"] = parse_date(draft.date) if draft.date.strip() else _today()
            except ValueError as exc:
                raise DeskError(msg("desk.bad_date", problem=exc), "invalid") from None
        if draft.departments is not None:
            names = [ctx.department(d) for d in draft.departments if d.strip()]
            changes["departments"] = tuple(dict.fromkeys(names))
        if draft.queries is not None:
            if any(len(q) > MAX_QUERY_CHARS for q in draft.queries):
                raise DeskError(msg("desk.query_too_long", limit=MAX_QUERY_CHARS), "invalid")
            queries = [ctx.mask(q) for q in draft.queries if q.strip()]
            changes["queries"] = tuple(queries[-MAX_QUERIES:])
        return dataclasses.replace(record, **changes)  # type: ignore[arg-type]

    def create(self, draft: RecordDraft, ctx: DeskContext, *, actor: str) -> ConsultationRecord:
        """Start a record (対応中) from ``draft``; every text masked before it is stored.

        Raises:
            DeskError: A field is wrong (unknown department or channel, bad date, too long).
        """
        blank = ConsultationRecord(id="", status=OPEN, date=_today(), created_by=actor)
        return self.records().add(self._apply(blank, draft, ctx))

    def get(self, record_id: str) -> ConsultationRecord:
        """The record ``record_id``.

        Raises:
            DeskError: No such record (``not_found``).
        """
        found = self.records().get(record_id)
        if found is None:
            raise DeskError(msg("desk.no_record", id=repr(record_id[:20])), "not_found")
        return found

    def _open(self, record_id: str) -> ConsultationRecord:
        record = self.get(record_id)
        if record.closed:
            raise DeskError(msg("desk.record_closed", id=record.id), "closed")
        return record

    def update(
        self, record_id: str, draft: RecordDraft, ctx: DeskContext, *, actor: str = ""
    ) -> ConsultationRecord:
        """Change an open record; ``actor`` (the key name) is kept as the last to change it.

        Raises:
            DeskError: No such record, it is closed already, or a field is wrong.
        """
        for _ in range(_SAVE_TRIES):
            record = self._open(record_id)
            changed = dataclasses.replace(self._apply(record, draft, ctx), updated_by=actor)
            saved = self.records().replace_if(record, changed)
            if saved is not None:
                return saved
        raise DeskError(msg("desk.record_busy", id=record_id), "conflict")

    def close(
        self,
        record_id: str,
        draft: RecordDraft,
        ctx: DeskContext,
        embedder: Embedder,
        *,
        wait: float = 0.0,
        on_wait: Callable[[LockHolder | None], None] | None = None,
        actor: str = "",
    ) -> Closure:
        """Close a record (完了): store it as a case and switch to an index that finds it.

        Args:
            record_id: The record.
            draft: Last changes, saved with the closing.
            ctx: The directory and masker.
            embedder: The document embedder (the service's: its model built the index).
            wait: Seconds to wait for another writer (ingest, build, approval); 0: none.
            on_wait: Called once with the other writer when this one starts waiting.
            actor: The key name that closes it (kept as ``closed_by`` and ``updated_by``).

        Raises:
            DeskError: No such record, closed already, a field is wrong, the record has no
                words or actions, or there is no store to write to.
            BusyError: Another process held the writer lock (for ``wait`` seconds).
        """
        started = time.perf_counter()
        if not self.settings.store_path.exists():
            raise DeskError(msg("desk.no_store", name=self.settings.store_path.name), "unavailable")
        with (
            self._close_lock,
            writer_lock(self.settings, "record.close", wait=wait, on_wait=on_wait),
        ):
            # An edit saved while the case is indexed would be lost by the closing's write, or
            # left out of the case: the record is closed only as it was read, else read again.
            for _ in range(_SAVE_TRIES):
                before = self._open(record_id)
                record = self._apply(before, draft, ctx)
                missing = [
                    msg(_LABELS[name])
                    for name in ("citizen_words", "actions")
                    if not getattr(record, name)
                ]
                if missing:
                    fields = msg("desk.fields_joiner").join(missing)
                    raise DeskError(msg("desk.close_missing", fields=fields), "invalid")
                closed = dataclasses.replace(
                    record, status=CLOSED, closed_at=_now_utc(), closed_by=actor, updated_by=actor
                )
                report = self._store_case(closed, embedder)
                saved = self.records().replace_if(before, closed)
                if saved is not None:
                    return Closure(saved, report, round(time.perf_counter() - started, 3))
        raise DeskError(msg("desk.record_busy", id=record_id), "conflict")

    def _store_case(self, record: ConsultationRecord, embedder: Embedder) -> BuildReport:
        doc = case_document(record)
        store = Store(self.settings.store_path)
        cache = EmbeddingCache(self.settings.data_dir / "embeddings.sqlite")
        try:
            store.upsert([(doc, chunk_document(doc, self.tokenizer))])
            return build_index(store, embedder, self.settings.index_root, cache=cache)
        finally:
            cache.close()
            store.close()


_SAVE_TRIES = 5
"""Reads of a record a change is applied to, while other staff keep changing it."""

_LABELS = {
    "citizen_words": "desk.field_citizen_words",
    "notes": "desk.field_notes",
    "actions": "desk.field_actions",
    "category": "desk.field_category",
}
"""The catalogue keys of the fields' names, for messages."""


def _today() -> str:
    return dt.date.today().isoformat()


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def closure_summary(closure: Closure) -> str:
    """A closing's result as the audit log records it (counts, never the text)."""
    b = closure.build
    return (
        f"closed {closure.record.id} as {closure.record.case_id} in index {b.path.name} "
        f"({b.embedded} chunk(s) embedded, {b.cached} from cache) in {closure.seconds:.2f} s"
    )


def record_ids(records: Iterable[ConsultationRecord]) -> list[str]:
    """The ids of ``records`` (for the audit log)."""
    return [r.id for r in records]
