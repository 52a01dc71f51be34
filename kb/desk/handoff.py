"""Hand-off sheets (引継ぎ票): a consultation passed to a department or an outside body.

A sheet carries what the receiver needs so the citizen need not tell the story again: the
consultation in the counsellor's words, what was heard and done, what the citizen brings, the
receiving department and its contact (from the directory) or the outside body, the urgency,
and the similar closed cases and manual sections that apply (found by searching the
consultation's own text).

The stored hand-off (``records.sqlite``, linked to its record) is masked like the record. The
citizen's name and phone number are on the printed sheet only when the counsellor puts them
there for this print (:class:`CitizenContact`): they are never stored, logged or audited.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from kb.desk.records import MAX_SHORT_CHARS, MAX_WORDS_CHARS, Desk, DeskContext
from kb.errors import DeskError, QueryError
from kb.messages import msg
from kb.search.searcher import Searcher
from kb.store.records import URGENCIES, ConsultationRecord, Handoff
from kb.text.masking import strip_placeholders
from kb.trainer.docx_writer import WordBlock, docx_bytes
from kb.types import Department, DocId, Document, Filters

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
"""Characters no XML (Word) document may hold and no printout shows: removed from sheets."""
SIMILAR_K = 3
"""Similar cases and manual sections put on a sheet."""
MAX_CONTACT_CHARS = 100


@dataclass(frozen=True)
class HandoffDraft:
    """What the counsellor writes on a hand-off; empty texts are taken from the record."""

    to_department: str = ""
    to_outside: str = ""
    urgency: str = URGENCIES[0]
    summary: str = ""
    heard: str = ""
    done: str = ""
    bring: str = ""


@dataclass(frozen=True)
class CitizenContact:
    """The citizen's name and phone for one printed sheet: never stored or logged."""

    name: str = ""
    phone: str = ""

    def __bool__(self) -> bool:
        return bool(self.name.strip() or self.phone.strip())


@dataclass(frozen=True)
class HandoffSheet:
    """Everything one printed sheet shows."""

    handoff: Handoff
    record: ConsultationRecord | None
    department: Department | None
    """The receiving department (``None``: an outside body)."""
    cases: tuple[Document, ...]
    manuals: tuple[Document, ...]
    contact: CitizenContact
    sender: str
    """The sending desk (``settings.contact_name``)."""
    sender_phone: str = ""


def _text(ctx: DeskContext, label: str, value: str, most: int = MAX_WORDS_CHARS) -> str:
    """``value`` masked; ``label`` is the catalogue key of the field's name."""
    if len(value) > most:
        raise DeskError(msg("desk.too_long", field=msg(label), n=len(value), limit=most), "invalid")
    return ctx.mask(value)


def similar(
    searcher: Searcher, text: str, *, exclude: str = ""
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Ids of the closed cases and manual sections nearest to ``text`` (placeholders dropped).

    Args:
        searcher: The serving index.
        text: The consultation (masked).
        exclude: A case id to leave out (the record's own case).
    """
    query = " ".join(strip_placeholders(text).split())[: searcher.config.max_query_chars]
    if not query:
        return (), ()
    try:
        result = searcher.search(query, k=SIMILAR_K + 1, filters=Filters(kinds=("case", "manual")))
    except QueryError:
        return (), ()
    cases = [DocId.of("case", c.id) for c in result.cases if DocId.of("case", c.id) != exclude]
    manuals = [DocId.of("manual", m.id) for m in result.manuals]
    return tuple(cases[:SIMILAR_K]), tuple(manuals[:SIMILAR_K])


def write_handoff(
    desk: Desk,
    draft: HandoffDraft,
    ctx: DeskContext,
    searcher: Searcher,
    *,
    actor: str,
    record_id: str = "",
) -> Handoff:
    """Write (and store, masked) a hand-off from a record or from the current search.

    Args:
        desk: The records.
        draft: What the counsellor wrote; an empty summary, heard or done text is taken from
            the record (its citizen's words, notes and actions).
        ctx: The directory and masker.
        searcher: The serving index, for the similar cases and manual sections.
        actor: The counsellor's key name.
        record_id: The record it belongs to; empty: from a search alone.

    Raises:
        DeskError: No such record, no receiver, an unknown department or urgency, or no
            consultation text at all.
    """
    record = desk.get(record_id) if record_id else None
    to_department = ctx.department(draft.to_department) if draft.to_department.strip() else ""
    to_outside = _text(ctx, "desk.field_to_outside", draft.to_outside, MAX_SHORT_CHARS)
    if not to_department and not to_outside:
        raise DeskError(msg("desk.no_receiver"), "invalid")
    if draft.urgency not in URGENCIES:
        raise DeskError(msg("desk.urgency", urgencies="・".join(URGENCIES)), "invalid")
    summary = _text(ctx, "desk.field_summary", draft.summary) or (
        record.citizen_words if record else ""
    )
    heard = _text(ctx, "desk.field_heard", draft.heard) or (record.notes if record else "")
    done = _text(ctx, "desk.field_done", draft.done) or (record.actions if record else "")
    bring = _text(ctx, "desk.field_bring", draft.bring, MAX_SHORT_CHARS * 5)
    if not (summary or heard):
        raise DeskError(msg("desk.no_summary"), "invalid")
    cases, manuals = similar(
        searcher, f"{summary}\n{heard}", exclude=record.case_id if record else ""
    )
    handoff = Handoff(
        id="",
        record_id=record.id if record else "",
        to_department=to_department,
        to_outside=to_outside,
        urgency=draft.urgency,
        summary=summary,
        heard=heard,
        done=done,
        bring=bring,
        case_ids=cases,
        manual_ids=manuals,
        created_by=actor,
    )
    try:
        return desk.records().add_handoff(handoff)
    except KeyError:  # the record was removed (erased) while the sheet was written
        raise DeskError(msg("desk.no_record", id=repr(record_id[:20])), "not_found") from None


def get_handoff(desk: Desk, handoff_id: str) -> Handoff:
    """The hand-off ``handoff_id``.

    Raises:
        DeskError: No such hand-off (``not_found``).
    """
    found = desk.records().handoff(handoff_id)
    if found is None:
        raise DeskError(msg("desk.no_handoff", id=repr(handoff_id[:20])), "not_found")
    return found


def sheet_for(
    desk: Desk,
    handoff: Handoff,
    searcher: Searcher,
    contact: CitizenContact,
    *,
    sender: str = "",
    sender_phone: str = "",
) -> HandoffSheet:
    """The printed sheet of ``handoff``, with the citizen's contact when one is given.

    Raises:
        DeskError: The name or phone is longer than :data:`MAX_CONTACT_CHARS`.
    """
    if max(len(contact.name), len(contact.phone)) > MAX_CONTACT_CHARS:
        raise DeskError(msg("desk.contact_too_long", limit=MAX_CONTACT_CHARS), "invalid")
    record = desk.records().get(handoff.record_id) if handoff.record_id else None
    docs = searcher.store.get_documents([*handoff.case_ids, *handoff.manual_ids])
    return HandoffSheet(
        handoff=handoff,
        record=record,
        department=searcher.departments.get(handoff.to_department),
        cases=tuple(docs[i] for i in handoff.case_ids if i in docs),
        manuals=tuple(docs[i] for i in handoff.manual_ids if i in docs),
        contact=CitizenContact(contact.name.strip(), contact.phone.strip()),
        sender=sender,
        sender_phone=sender_phone,
    )


# --- rendering ------------------------------------------------------------------------------


def _receiver(sheet: HandoffSheet) -> list[tuple[str, str]]:
    h, d = sheet.handoff, sheet.department
    rows = [("引継先", h.to_department or h.to_outside)]
    if d is not None:
        rows.append(("連絡先", "　".join(x for x in (d.phone and f"☎ {d.phone}", d.location) if x)))
        if d.hours:
            rows.append(("受付時間", d.hours))
        if h.to_outside:
            rows.append(("外部機関", h.to_outside))
    return rows


def _header_rows(sheet: HandoffSheet) -> list[tuple[str, str]]:
    h, r = sheet.handoff, sheet.record
    rows = [("引継ぎ票番号", h.id), ("作成日時", _local_time(h.created_at))]
    if r is not None:
        rows.append(("相談記録", f"{r.id}（{r.date}・{r.channel or '経路未記入'}）"))
    rows.append(("緊急度", h.urgency))
    rows += _receiver(sheet)
    sender = " ".join(x for x in (sheet.sender, sheet.sender_phone) if x)
    if sender:
        rows.append(("引継元", sender))
    if sheet.contact:
        rows.append(("相談者氏名", sheet.contact.name or "（記載なし）"))
        rows.append(("相談者電話", sheet.contact.phone or "（記載なし）"))
    else:
        rows.append(
            ("相談者の連絡先", "この票には記載していません（引継元の窓口にお問い合わせください）")
        )
    return rows


def _local_time(stamp: str) -> str:
    """A stored UTC time as the city reads it: Japan time (the server's zone may be UTC)."""
    try:
        from zoneinfo import ZoneInfo

        when = dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo("Asia/Tokyo"))
    except (ValueError, KeyError, OSError):  # no time zone data: say which zone it is
        return stamp.replace("T", " ")[:16] + " UTC"
    return when.strftime("%Y-%m-%d %H:%M") + "（日本時間）"


def _manual_label(m: Document) -> str:
    heading = " > ".join(m.heading_path) or m.title
    return heading if heading == m.doc_title or not m.doc_title else f"{m.doc_title} > {heading}"


def _sections(sheet: HandoffSheet) -> list[tuple[str, str]]:
    h = sheet.handoff
    return [
        ("相談の概要（相談員の記録）", h.summary),
        ("聞き取った内容", h.heard),
        ("対応済みの内容", h.done),
        ("相談者が持参するもの", h.bring),
    ]


_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif;
  color: #111; margin: 0 auto; max-width: 182mm; padding: 8mm 0; font-size: 10.5pt;
  line-height: 1.6; }
h1 { font-size: 17pt; margin: 0 0 2mm; border-bottom: 2px solid #111; padding-bottom: 1mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 1.5mm; border-left: 4px solid #0b5cad; padding-left: 2mm; }
table.head { border-collapse: collapse; width: 100%; }
table.head th, table.head td { border: 1px solid #555; padding: 1.2mm 2mm; vertical-align: top;
  text-align: left; }
table.head th { width: 32mm; background: #eef2f7; white-space: nowrap; }
.urgent { font-weight: 700; color: #b42318; }
.text { white-space: pre-wrap; border: 1px solid #bbb; padding: 2mm; min-height: 10mm; }
ul.refs { margin: 0; padding-left: 5mm; }
ul.refs li { margin-bottom: 1mm; }
.meta { color: #444; font-size: 9pt; }
.note { font-size: 9pt; color: #444; margin-top: 6mm; border-top: 1px solid #999;
  padding-top: 2mm; }
.hint { background: #fff8c5; border: 1px solid #d4a72c; padding: 2mm 3mm; margin-bottom: 4mm; }
@media print { .hint { display: none; } body { padding: 0; } }
"""


def _printable(text: str) -> str:
    return _CONTROL.sub("", text)


def sheet_html(sheet: HandoffSheet) -> str:
    """The sheet as one self-contained HTML page for A4 printing (no script, text escaped)."""

    def e(text: str) -> str:
        return html.escape(_printable(text))

    h = sheet.handoff
    head = "".join(
        f'<tr><th scope="row">{e(k)}</th>'
        f"<td{' class=urgent' if k == '緊急度' and v != URGENCIES[0] else ''}>{e(v)}</td></tr>"
        for k, v in _header_rows(sheet)
    )
    body = "".join(
        f'<h2>{e(title)}</h2><div class="text">{e(text) or "（記載なし）"}</div>'
        for title, text in _sections(sheet)
    )
    cases = "".join(
        f"<li><strong>{e(DocId.local_of(c.doc_id))}</strong>（{e(c.date)}）{e(c.title)}"
        f'<div class="meta">対応: {e(c.body[:300])}</div></li>'
        for c in sheet.cases
    )
    manuals = "".join(f"<li>{e(_manual_label(m))}</li>" for m in sheet.manuals)
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>引継ぎ票 {e(h.id)}</title><style>{_CSS}</style></head><body>"
        '<p class="hint">印刷するには Ctrl+P（A4 縦）。この案内は印刷されません。</p>'
        f'<h1>引継ぎ票</h1><table class="head">{head}</table>{body}'
        f'<h2>参考: 過去の類似事例</h2><ul class="refs">{cases or "<li>なし</li>"}</ul>'
        f'<h2>参考: 関係するマニュアル</h2><ul class="refs">{manuals or "<li>なし</li>"}</ul>'
        '<p class="note">この票には個人情報が含まれる場合があります。引継ぎが済んだら、'
        "各課の文書管理の決まりに従って保管・廃棄してください。</p>"
        "</body></html>"
    )


def sheet_blocks(sheet: HandoffSheet) -> list[WordBlock]:
    """The sheet as Word blocks (:func:`kb.trainer.docx_writer.write_docx`)."""
    blocks: list[WordBlock] = [("table", 0, (("項目", "内容"), *_header_rows(sheet)))]
    for title, text in _sections(sheet):
        blocks.append(("heading", 1, title))
        blocks.append(("paragraph", 0, text or "（記載なし）"))
    blocks.append(("heading", 1, "参考: 過去の類似事例"))
    for c in sheet.cases:
        local = DocId.local_of(c.doc_id)
        blocks.append(("bullet", 1, f"{local}（{c.date}）{c.title} — 対応: {c.body[:300]}"))
    if not sheet.cases:
        blocks.append(("paragraph", 0, "なし"))
    blocks.append(("heading", 1, "参考: 関係するマニュアル"))
    for m in sheet.manuals:
        blocks.append(("bullet", 1, _manual_label(m)))
    if not sheet.manuals:
        blocks.append(("paragraph", 0, "なし"))
    return blocks


def sheet_docx(sheet: HandoffSheet) -> bytes:
    """The sheet as a Word document, in memory (it may carry the citizen's name)."""
    receiver = _printable(sheet.handoff.to_department or sheet.handoff.to_outside)
    blocks: list[WordBlock] = []
    for kind, level, content in sheet_blocks(sheet):
        if isinstance(content, str):
            blocks.append((kind, level, _printable(content)))
        else:
            rows = tuple(tuple(_printable(c) for c in row) for row in content)
            blocks.append((kind, level, rows))
    return docx_bytes(f"引継ぎ票 {sheet.handoff.id}", blocks, subject=receiver)
