"""Typed, frozen records passed between pipeline stages.

Every stage (parse → normalize → chunk → tokenize → store → embed → index → search → group)
exchanges these records and nothing else; pydantic models exist only at the API edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DocKind = Literal["faq", "case", "manual", "department"]
"""The kinds of searchable documents. ``department`` is the directory's duties text."""

DOC_KINDS: tuple[DocKind, ...] = ("faq", "case", "manual", "department")

ConfidenceLevel = Literal["high", "low", "none"]
"""How sure a search is of a pane: ``none`` means it found no answer (see kb.search.confidence)."""

CaseChannel = Literal["窓口", "電話", "メール", "LINE", "オンライン"]
CASE_CHANNELS: tuple[str, ...] = ("窓口", "電話", "メール", "LINE", "オンライン")


@dataclass(frozen=True)
class DocId:
    """A document's id: its kind and its id within the kind (the id the city's file gives it).

    Stored, indexed and logged as the text ``"<kind>:<local>"`` (``"faq:F0071"``,
    ``"manual:sogo-soudan-madoguchi#7"``, ``"department:市民課"``); this class alone builds
    and splits that text.
    """

    kind: DocKind
    local: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.local}"

    @classmethod
    def parse(cls, text: str) -> DocId:
        """Split ``"<kind>:<local>"``; :class:`ValueError` for an unknown kind or no local id."""
        kind, sep, local = text.partition(":")
        if not sep or not local or kind not in DOC_KINDS:
            raise ValueError(
                f"not a document id: {text!r} (expected KIND:ID, KIND one of "
                f"{', '.join(DOC_KINDS)})"
            )
        return cls(kind, local)

    @staticmethod
    def of(kind: DocKind, local: str) -> str:
        """The stored text of the id of ``local`` in ``kind``."""
        return str(DocId(kind, local))

    @staticmethod
    def local_of(text: str) -> str:
        """The id within its kind (``"F0071"`` for ``"faq:F0071"``); ``text`` if it has none."""
        return text.partition(":")[2] or text

    @staticmethod
    def kind_of(text: str) -> str:
        """The kind part of a stored id (``""`` if it has none)."""
        kind, sep, _ = text.partition(":")
        return kind if sep else ""


@dataclass(frozen=True)
class Department:
    """One entry of the department directory (担当課)."""

    name: str
    duties: str
    phone: str = ""
    location: str = ""
    hours: str = ""
    aliases: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Procedure:
    """One procedure (手続き) a life event calls for: what a life-event checklist lists.

    Procedures are public reference data, not a search pane: they are reached through the
    life events they belong to (:mod:`kb.desk.lifeevents`), never ranked against FAQ entries.
    """

    id: str
    name: str
    department: str
    life_events: tuple[str, ...]
    """The life events (転入, 死亡...) that call for it, canonical names."""
    conditions: tuple[str, ...] = ()
    """Who it applies to (子どもあり, 国保加入...): all must hold; empty: everyone."""
    deadline: str = ""
    """As the city writes it (``14日以内``, ``速やかに``)."""
    deadline_days: int | None = None
    """The deadline in days for ordering (``None``: none given)."""
    documents: tuple[str, ...] = ()
    """What the citizen brings."""
    fee: str = ""
    where: str = ""
    easy: str = ""
    """The procedure in やさしい日本語, for the citizen's printout (empty: none written)."""
    note: str = ""
    url: str = ""
    source: str = ""


@dataclass(frozen=True)
class Document:
    """A parsed source record, before chunking.

    The meaning of ``title`` and ``body`` depends on ``kind``:

    * ``faq``: question / answer
    * ``case``: consultation summary / response and resolution
    * ``manual``: section heading / section text (``doc_title`` and ``heading_path`` locate it)
    * ``department``: department name / duties text
    """

    doc_id: str
    """Stable id, unique across kinds: ``"faq:F0001"``, ``"case:C0001"``, ``"manual:<stem>#3"``."""
    kind: DocKind
    title: str
    body: str
    departments: tuple[str, ...] = ()
    category: str = ""
    date: str = ""
    """ISO date ``YYYY-MM-DD`` (cases), or empty."""
    published: bool = False
    """Only published FAQ entries may ever reach the public API."""
    url: str = ""
    channel: str = ""
    status: str = ""
    doc_title: str = ""
    """Manuals: the document's title."""
    heading_path: tuple[str, ...] = ()
    """Manuals: the headings from the document root down to this section."""
    source: str = ""
    """Where it came from: ``path`` or ``path:line``."""
    owner: str = ""
    """FAQ: the department that keeps the entry correct (所管課), or empty."""
    updated: str = ""
    """FAQ: ISO date ``YYYY-MM-DD`` it was last revised (更新日), or empty."""
    expires: str = ""
    """FAQ: ISO date ``YYYY-MM-DD``, the last day it is public (公開期限), or empty: no end.
    Checked at query time (:mod:`kb.search.expiry`), so it leaves the widget on the day."""


@dataclass(frozen=True)
class Chunk:
    """A unit of retrieval: part of a document, normalized and tokenized."""

    chunk_id: str
    """``f"{doc_id}#{ordinal}"``."""
    doc_id: str
    kind: DocKind
    ordinal: int
    title: str
    """Normalized title field (FAQ question, case summary, manual heading path)."""
    text: str
    """Normalized body field of this part."""
    title_tokens: tuple[str, ...] = ()
    text_tokens: tuple[str, ...] = ()

    @property
    def content(self) -> str:
        """The text that is embedded: title and body on separate lines."""
        return f"{self.title}\n{self.text}" if self.title and self.text else self.title or self.text


@dataclass(frozen=True)
class RowError:
    """A bad input row that was reported and skipped."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    """What a reader produced from one file: good records plus the rows it skipped."""

    source: str
    documents: tuple[Document, ...] = ()
    departments: tuple[Department, ...] = ()
    errors: tuple[RowError, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    warnings: tuple[RowError, ...] = ()
    """Problems of rows that were kept (an unknown channel, a column read past)."""


@dataclass(frozen=True)
class Filters:
    """Search filters. Empty tuples / empty strings mean "no restriction"."""

    kinds: tuple[DocKind, ...] = ()
    departments: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    published_only: bool = False

    @property
    def narrowed(self) -> bool:
        """Whether a pane is left out or a department, category or date filter is set.

        A public search (``published_only``: published FAQ entries alone) is not narrowed by
        that: it is what every public search is.
        """
        kinds = bool(self.kinds) and set(self.kinds) != set(DOC_KINDS) and not self.published_only
        return kinds or bool(self.departments or self.categories or self.date_from or self.date_to)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score and per-retriever evidence."""

    chunk_id: str
    doc_id: str
    kind: DocKind
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    departments: tuple[str, ...] = ()
    """The document's departments (ranks departments without reading the document)."""


@dataclass(frozen=True)
class DepartmentResult:
    name: str
    score: float
    phone: str
    location: str
    hours: str
    evidence: tuple[str, ...] = ()
    """Doc ids (FAQ / cases / directory entry) that point to this department."""


@dataclass(frozen=True)
class FaqResult:
    id: str
    question: str
    answer: str
    department: str
    score: float
    category: str = ""
    url: str = ""
    expires: str = ""
    """The last day it is public (公開期限), or empty."""
    expired: bool = False
    """Its 公開期限 has passed (staff still find it; the public API never returns it)."""


@dataclass(frozen=True)
class CaseResult:
    id: str
    summary: str
    resolution: str
    department: str
    date: str
    score: float
    channel: str = ""
    category: str = ""


@dataclass(frozen=True)
class ManualResult:
    id: str
    title: str
    heading: str
    text: str
    score: float


@dataclass(frozen=True)
class PaneConfidence:
    """How sure the search is of each pane's best hit; ``None``: the pane was not searched."""

    faq: ConfidenceLevel | None = None
    case: ConfidenceLevel | None = None
    manual: ConfidenceLevel | None = None
    department: ConfidenceLevel | None = None


@dataclass(frozen=True)
class SearchResult:
    """The grouped answer to one query: the four panes of the staff console."""

    query: str
    took_ms: float
    departments: tuple[DepartmentResult, ...] = ()
    faqs: tuple[FaqResult, ...] = ()
    cases: tuple[CaseResult, ...] = ()
    manuals: tuple[ManualResult, ...] = ()
    answered: bool = False
    """Whether any pane shown found an answer (confidence ``high`` or ``low``)."""
    confidence: PaneConfidence = PaneConfidence()
    filtered: bool = False
    """The search was narrowed (a pane left out, a department, category or date filter), so
    what it did not find says nothing about what the corpus lacks."""
    hits: tuple[Hit, ...] = field(default=(), repr=False)
    """The fused hits behind the panes, best first (for evaluation and debugging)."""

    def shown_ids(self) -> list[str]:
        """Every doc id the answer carries, for the audit log: pane by pane, then the ids the
        departments give as evidence (根拠) that no pane shows."""
        shown = (
            [DocId.of("department", d.name) for d in self.departments]
            + [DocId.of("faq", f.id) for f in self.faqs]
            + [DocId.of("case", c.id) for c in self.cases]
            + [DocId.of("manual", m.id) for m in self.manuals]
        )
        evidence = [
            e for d in self.departments for e in d.evidence if DocId.kind_of(e) in DOC_KINDS
        ]
        return list(dict.fromkeys(shown + evidence))
