"""``kb search``: one query from the terminal, four panes, or the API's JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any, cast

from kb.settings import Settings
from kb.types import DOC_KINDS, DocKind, Filters


def _print(msg: str) -> None:
    print(msg, flush=True)


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        kinds=tuple(cast(DocKind, k) for k in (args.kind or ())),
        departments=tuple(args.department or ()),
        categories=tuple(args.category or ()),
        date_from=args.date_from or "",
        date_to=args.date_to or "",
        published_only=args.published_only,
    )


def result_dict(result: Any) -> dict[str, Any]:
    """The JSON shape shared by ``kb search --json`` and ``GET /api/v1/search``."""
    data = asdict(result)
    data.pop("hits", None)
    data.pop("filtered", None)
    for dept in data["departments"]:
        dept["evidence"] = list(dept["evidence"])
    return data


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from kb.search.query import check_request
    from kb.search.service import SearchService
    from kb.security.commands import record_cli_search
    from kb.text.masking import mask_personal

    filters = _filters(args)
    check_request(args.k, settings.max_k, filters)
    service = SearchService.from_settings(settings)
    searcher = service.searcher()
    result = searcher.search(args.query, k=args.k, filters=filters, mode=args.mode)
    # Recorded before anything is printed: no result reaches the terminal unaudited.
    record_cli_search(
        settings,
        args.query,
        result.shown_ids(),
        masker=lambda text: mask_personal(text, searcher.tokenizer),
    )
    contact = {
        "name": settings.contact_name,
        "phone": settings.contact_phone,
        "hours": settings.contact_hours,
        "url": settings.contact_url,
        "form_url": settings.contact_form_url,
    }
    if args.json:
        _print(
            json.dumps({**result_dict(result), "contact": contact}, ensure_ascii=False, indent=2)
        )
        return 0
    _print(f"「{result.query}」 ({result.took_ms:.1f} ms)")
    if not result.answered:
        where = "  ".join(v for v in (contact["name"], contact["phone"], contact["hours"]) if v)
        _print(f"該当する情報が見つかりませんでした。総合窓口: {where}")
    mark = {"low": "（一致が弱い）", "none": "（該当なし・参考表示）"}
    level = result.confidence
    if result.departments:
        _print(f"\n担当課{mark.get(level.department or 'high', '')}:")
        for d in result.departments:
            _print(
                f"  {d.name}  {d.phone}  {d.location}  {d.hours}  (根拠: {', '.join(d.evidence)})"
            )
    if result.faqs:
        _print(f"\nFAQ{mark.get(level.faq or 'high', '')}:")
        for f in result.faqs:
            _print(f"  [{f.id}] {f.question}  ({f.department}, {f.score:.3f})")
            _print(f"      {f.answer[:120]}")
    if result.cases:
        _print(f"\n類似相談{mark.get(level.case or 'high', '')}:")
        for c in result.cases:
            _print(f"  [{c.id}] {c.date} {c.department}: {c.summary[:80]}")
            _print(f"      → {c.resolution[:100]}")
    if result.manuals:
        _print(f"\nマニュアル{mark.get(level.manual or 'high', '')}:")
        for m in result.manuals:
            _print(f"  [{m.id}] {m.title} > {m.heading}: {m.text[:80]}")
    return 0


def add_parser(sub: Any) -> None:
    """``kb search``."""
    p = sub.add_parser("search", help="search from the command line")
    p.add_argument("query", help="what the citizen said")
    p.add_argument("-k", type=int, default=5, help="results per pane")
    p.add_argument("--json", action="store_true", help="print the API's JSON shape")
    p.add_argument(
        "--kind",
        action="append",
        choices=list(DOC_KINDS),
        help="only this kind; repeat for several (default: all kinds)",
    )
    p.add_argument(
        "--department", action="append", help="only this department; repeat (default: all)"
    )
    p.add_argument("--category", action="append", help="only this category; repeat (default: all)")
    p.add_argument("--date-from", help="cases from this date on, YYYY-MM-DD (default: no limit)")
    p.add_argument("--date-to", help="cases up to this date, YYYY-MM-DD (default: no limit)")
    p.add_argument("--published-only", action="store_true", help="only published FAQ entries")
    p.add_argument(
        "--mode",
        choices=["hybrid", "dense", "lexical"],
        default=None,
        help="retrieval mode (default: hybrid)",
    )
    p.set_defaults(func=cmd_search)
