"""``kb brief BOOKINGS``: the briefs of a day's booked consultations (事前予約).

Reads the booking system's export (CSV or xlsx: 予約日時, 相談方法, 相談内容), makes one brief
per booking (:mod:`kb.desk.briefs`), records each in the audit log (the topic masked) before
anything is printed, then prints them, or with ``--json`` a list of briefs shaped like
``kb search --json``'s panes plus ``bring``, ``procedures`` and ``invite``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from kb.settings import Settings


def add_parser(sub: Any) -> None:
    """Add ``kb brief`` to the command line's subcommands."""
    p = sub.add_parser(
        "brief", help="briefs for a day's booked consultations (CSV or xlsx of bookings)"
    )
    p.add_argument("bookings", type=Path, help="予約日時, 相談方法, 相談内容 columns (.csv/.xlsx)")
    p.add_argument("--json", action="store_true", help="print the briefs as JSON")
    p.add_argument("-k", type=int, default=3, help="results per pane")
    p.set_defaults(func=cmd_brief)


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    from kb.desk.bookings import read_bookings
    from kb.desk.briefs import BriefMaker, brief_dict
    from kb.search.service import SearchService
    from kb.security.audit import AuditLog
    from kb.security.commands import CLI_ROLE, cli_actor
    from kb.text.masking import mask_personal

    t0 = time.perf_counter()
    parsed = read_bookings(args.bookings)
    for error in parsed.errors:
        print(f"{error}", file=sys.stderr, flush=True)
    if parsed.ignored_columns:
        print(
            f"{parsed.source}: 読み込まなかった列: {'、'.join(parsed.ignored_columns)}",
            file=sys.stderr,
            flush=True,
        )
    service = SearchService.from_settings(settings)
    searcher = service.searcher()
    maker = BriefMaker(searcher, k=args.k)
    briefs = maker.briefs(parsed.bookings)
    # Recorded before anything is printed: no brief reaches the terminal unaudited.
    audit = AuditLog.from_settings(
        settings, masker=lambda text: mask_personal(text, searcher.tokenizer)
    )
    try:
        for brief in briefs:
            audit.append(
                "brief",
                actor=cli_actor(),
                role=CLI_ROLE,
                query=brief.booking.topic,
                ids=brief.shown_ids(),
            )
    finally:
        audit.close()
    if args.json:
        print(json.dumps([brief_dict(b) for b in briefs], ensure_ascii=False, indent=2))
    else:
        for n, b in enumerate(briefs, start=1):
            _print_brief(n, brief_dict(b))
        seconds = time.perf_counter() - t0
        print(f"\n{len(briefs)} 件の事前準備を作成しました（{seconds:.1f} 秒）", flush=True)
    return 1 if parsed.errors else 0


def _print_brief(n: int, b: dict[str, Any]) -> None:
    booking = b["booking"]
    print(f"\n== {n}. {booking['datetime']} {booking['channel']}  {booking['topic']}")
    if b["life_events"]:
        print(f"  ライフイベント: {'・'.join(b['life_events'])}")
    if b["invite"]:
        names = "、".join(f"{i['department']}（{i['reason']}）" for i in b["invite"])
        print(f"  合同・リモート相談に招く課: {names}")
    for d in b["departments"]:
        print(f"  担当課: {d['name']}  {d['phone']}  {d['location']}")
    for item in b["bring"]:
        print(f"  持ち物: {item['item']}  ({item['procedure'] or item['source']})")
    for p in b["procedures"]:
        print(f"  手続き: {p['name']}（{p['department']}・{p['deadline'] or '期限なし'}）")
    for f in b["faqs"]:
        print(f"  FAQ [{f['id']}] {f['question']}")
    for c in b["cases"]:
        print(f"  事例 [{c['id']}] {c['summary'][:60]} → {c['resolution'][:60]}")
    for m in b["manuals"]:
        print(f"  マニュアル [{m['id']}] {m['title']} > {m['heading']}")
