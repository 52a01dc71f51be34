"""``kb trainer ...``: topics, gaps, manual drafts, FAQ candidates, feedback-loop measurement."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kb.index.lock import LockHolder, waiting_message
from kb.messages import msg
from kb.security.commands import cli_audited, private_output
from kb.settings import Settings
from kb.trainer.gaps import GapReport
from kb.trainer.lifecycle import FIELD_NAMES, FaqEdit
from kb.trainer.service import Trainer, approval_summary, change_summary
from kb.trainer.topics import TopicSet, trend
from kb.types import DocId


def _positive(text: str) -> int:
    """A whole number of 1 or more, for argparse (``--min-count``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(msg("trainer.not_positive", value=text[:20]))
    return value


def _out(text: str) -> None:
    print(text, flush=True)


def format_topics(topic_set: TopicSet, cases: dict[str, Any], limit: int) -> str:
    scope = topic_set.department or "全体"
    total = sum(t.size for t in topic_set.topics)
    lines = [f"topics of {scope}: {len(topic_set.topics)} topics over {total} closed cases"]
    for t in topic_set.topics[:limit]:
        channels = ", ".join(f"{c} {n}" for c, n in t.channels[:3])
        months = [n for _, n in t.monthly]
        lines.append(
            f"\n{t.id}  {t.label}  ({t.size} cases, typical channel {t.channel or '-'}; "
            f"trend {trend(t):.1f}x)"
        )
        lines.append(f"  keywords: {'、'.join(t.keywords)}")
        lines.append(f"  channels: {channels}")
        depts = ", ".join(f"{d} {n}" for d, n in t.departments[:4])
        lines.append(f"  departments: {depts}")
        lines.append(f"  monthly ({topic_set.months[0]}..{topic_set.months[-1]}): {months}")
        for case_id in t.representative:
            case = cases.get(case_id)
            lines.append(f"  - {DocId.local_of(case_id)} {case.title if case else ''}")
    return "\n".join(lines)


def format_gaps(report: GapReport, limit: int) -> str:
    lines = [
        f"low-score lines (dense cosine of the best published FAQ): topics "
        f"{report.topic_low_score:.2f}, queries {report.low_score:.2f}"
    ]
    lines.append(f"\ngap topics (no published FAQ near most of their cases): {len(report.topics)}")
    for g in report.topics[:limit]:
        lines.append(
            f"  {g.topic.id:<14} {g.topic.size:>4} cases  coverage {g.coverage:.3f}  "
            f"{g.topic.label}  (nearest FAQ {DocId.local_of(g.best_faq)} {g.best_faq_question})"
        )
    lines.append(
        f"\nqueries without a good FAQ, most frequent first "
        f"({len(report.queries)} of {report.searches} logged searches' distinct queries):"
    )
    for q in report.queries[:limit]:
        best = "-" if q.best_score is None else f"{q.best_score:.3f}"
        lines.append(f"  {q.count:>4}x  zero-hit {q.zero_hits:>3}  best {best:>5}  {q.query}")
    lines.append("\nzero-hit / low-score rate:")
    for r in report.rates:
        lines.append(
            f"  {r.period}  {r.searches:>5} searches  zero-hit {r.zero_hit_rate:6.1%}  "
            f"low-score {r.low_score_rate:6.1%}"
        )
    lines.append("\n'this helped' rate per FAQ (worst first):")
    for h in report.helped[:limit]:
        rate = "-" if h.rate is None else f"{h.rate:.0%}"
        lines.append(
            f"  {DocId.local_of(h.faq_id):<8} {rate:>5}  ({h.helped} helped, {h.not_helped} not)  "
            f"{h.question}"
        )
    return "\n".join(lines)


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    topic_set = trainer.topics(args.department or "")
    if args.json:
        data = {
            "department": topic_set.department,
            "months": list(topic_set.months),
            "topics": [asdict(t) for t in topic_set.topics],
        }
        _out(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        cases = {c.doc_id: c for c in trainer.corpus().cases}
        _out(format_topics(topic_set, cases, args.limit))
    trainer.close()
    return 0


def cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    report = trainer.gaps(
        department=args.department or "", min_count=args.min_count, period=args.period
    )
    if args.json:
        _out(json.dumps(asdict(report), ensure_ascii=False, indent=2, default=str))
    else:
        _out(format_gaps(report, args.limit))
    trainer.close()
    return 0


def cmd_manual(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    draft = trainer.manual(args.department)
    trainer.close()
    if args.format == "md" and args.out is None:
        sys.stdout.write(draft.markdown())
        return 0
    out = args.out or Path(f"manual-{draft.department}.{args.format}")
    with private_output(out) as partial:
        draft.write(partial, args.format)
    _out(f"wrote {out} ({args.format}, {len(draft.blocks)} blocks)")
    return 0


def cli_principal(args: argparse.Namespace) -> str:
    """Who acts on the command line: ``--as NAME`` (an API key's name), or the OS user.

    Compared with API key names: an approval counts once per name, and with
    ``KB_FAQ_APPROVERS=2`` the name that drafted or last edited a candidate cannot publish it.
    """
    given = (getattr(args, "as_", None) or "").strip()
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _detail(args: argparse.Namespace) -> str:
    return f"as {cli_principal(args)}"


def _waiting(settings: Settings) -> Callable[[LockHolder | None], None]:
    def waiting(holder: LockHolder | None) -> None:
        print(f"kb: {waiting_message(holder, settings.writer_lock_wait)}", file=sys.stderr)

    return waiting


def cmd_candidates(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    for c in trainer.candidates().all():
        what = f"revises faq:{c.target}" if c.target else f"topic {c.topic_id}"
        approvals = f"  approvals: {', '.join(c.approvals)}" if c.approvals else ""
        _out(f"{c.id}  [{c.status}]  {what}  {c.department}{approvals}")
        _out(f"  Q: {c.question}")
        _out(f"  A: {c.answer}")
        if c.status == "rejected":
            _out(f"  rejected by {c.rejected_by}: {c.reason}")
    trainer.close()
    return 0


def cmd_draft(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    c = trainer.draft(args.topic, by=cli_principal(args))
    trainer.close()
    _out(f"drafted {c.id} for topic {c.topic_id} ({c.department}); unpublished until approved")
    _out(f"  Q: {c.question}")
    _out(f"  A: {c.answer}")
    return 0


def _edit_of(args: argparse.Namespace) -> FaqEdit:
    return FaqEdit(**{name: getattr(args, name, None) for name in FIELD_NAMES})


def cmd_revise(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    by = cli_principal(args)
    local = DocId.local_of(args.faq) if args.faq.startswith("faq:") else args.faq
    try:
        with cli_audited(
            settings, "revise", ids=[DocId.of("faq", local)], detail=_detail(args)
        ) as done:
            c = trainer.revise(local, by=by)
            edit = _edit_of(args)
            if edit != FaqEdit():
                c = trainer.edit(c.id, edit=edit, by=by)
            done.detail = f"draft {c.id} revises faq:{c.target}"
    finally:
        trainer.close()
    _out(f"{c.id} revises faq:{c.target} (unpublished until approved: kb trainer approve {c.id})")
    _out(f"  Q: {c.question}")
    _out(f"  A: {c.answer}")
    _out(f"  担当課 {c.department or '-'}  所管課 {c.owner or '-'}  更新日 {c.updated or '-'}  "
         f"公開期限 {c.expires or '-'}")  # fmt: skip
    return 0


def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    from kb.embed.embedder import embedder_from_settings

    trainer = Trainer(settings)
    by = cli_principal(args)
    edit = _edit_of(args)
    if edit != FaqEdit():
        trainer.edit(args.id, edit=edit, by=by)
    embedder = embedder_from_settings(settings, threads=settings.threads)
    try:
        # approve.start is written before the build, approve / approve.failed after it.
        ids = [DocId.of("faq", args.id)]
        with cli_audited(settings, "approve", ids=ids, detail=_detail(args)) as done:
            approval = trainer.approve(
                args.id, embedder, by=by, wait=settings.writer_lock_wait, on_wait=_waiting(settings)
            )
            done.detail = approval_summary(approval)
    finally:
        trainer.close()
    c = approval.candidate
    b = approval.build
    if b is None:
        _out(
            f"approved {c.id} as {by} (承認{len(c.approvals)} of {approval.needed}); "
            "it is published when another person approves it"
        )
        return 0
    _out(
        f"approved {c.id}: published as faq:{c.faq_id} in index "
        f"{b.path.name} ({b.embedded} chunk(s) embedded, {b.cached} from cache) "
        f"in {approval.seconds:.2f} s; a running server serves it from its next query"
    )
    return 0


def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    trainer = Trainer(settings)
    try:
        with cli_audited(
            settings, "reject", ids=[DocId.of("faq", args.id)], detail=_detail(args)
        ) as done:
            c = trainer.reject(args.id, args.reason, by=cli_principal(args))
            done.detail = f"rejected {c.id}: {c.reason}"
    finally:
        trainer.close()
    _out(f"rejected {c.id} ({c.reason}); it stays listed and is never published")
    return 0


def _set_published(args: argparse.Namespace, settings: Settings, published: bool) -> int:
    from kb.embed.embedder import embedder_from_settings

    action = "republish" if published else "withdraw"
    trainer = Trainer(settings)
    embedder = embedder_from_settings(settings, threads=settings.threads)
    local = DocId.local_of(args.faq) if args.faq.startswith("faq:") else args.faq
    detail = _detail(args) + (f"; reason: {args.reason}" if getattr(args, "reason", "") else "")
    try:
        with cli_audited(settings, action, ids=[DocId.of("faq", local)], detail=detail) as done:
            change = trainer.set_published(
                local, published, embedder, wait=settings.writer_lock_wait,
                on_wait=_waiting(settings),
            )  # fmt: skip
            done.detail = change_summary(change)
    finally:
        trainer.close()
    b = change.build
    _out(
        msg(
            "trainer.published" if change.document.published else "trainer.withdrawn",
            doc_id=change.document.doc_id,
            index=b.path.name,
            embedded=b.embedded,
            cached=b.cached,
            seconds=change.seconds,
        )
    )
    return 0


def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    return _set_published(args, settings, False)


def cmd_republish(args: argparse.Namespace, settings: Settings) -> int:
    return _set_published(args, settings, True)


def cmd_feedback_eval(args: argparse.Namespace, settings: Settings) -> int:
    from kb.embed.embedder import embedder_from_settings
    from kb.index.folder import current_index
    from kb.search.config import SearchConfig
    from kb.search.searcher import Searcher
    from kb.trainer.feedback_eval import (
        evaluate_feedback_loop,
        evaluate_paraphrases,
        load_labelled_queries,
    )

    embedder = embedder_from_settings(settings, threads=settings.threads)
    config = SearchConfig(feedback_weight=args.weight)
    searcher = Searcher(current_index(settings.index_root), embedder, config=config)
    queries = load_labelled_queries(args.dataset / args.queries)
    data: dict[str, Any] = {"feedback_weight": args.weight}
    paraphrase_file = args.dataset / args.paraphrases
    if paraphrase_file.exists():
        para = evaluate_paraphrases(searcher, queries, load_labelled_queries(paraphrase_file))
        data["paraphrases"] = asdict(para)
        _out(
            f"feedback on the {para.feedback} misranked queries, measured on "
            f"{para.paraphrases} other phrasings of them: department accuracy@1 "
            f"{para.paraphrases_before:.3f} -> {para.paraphrases_after:.3f}; on the other "
            f"{para.others} queries {para.others_before:.3f} -> {para.others_after:.3f}"
        )
    report = evaluate_feedback_loop(searcher, queries, folds=args.folds)
    searcher.close()
    data["folds"] = asdict(report)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    _out(
        f"held-out folds ({report.queries} queries, {args.folds} folds, {report.feedback} "
        f"feedback records replayed): before {report.before:.3f}, after {report.after:.3f} "
        f"(on the queries with feedback: {report.seen_after:.3f})"
    )
    return 0


def add_parser(sub: Any) -> None:
    """Add ``kb trainer`` and its subcommands to the top-level parser's subparsers."""
    p = sub.add_parser("trainer", help="topics, FAQ gaps, manual drafts and FAQ candidates")
    tsub = p.add_subparsers(dest="trainer_command", required=True)

    t = tsub.add_parser("topics", help="clusters of closed cases, per department or overall")
    t.add_argument("--department", default="", help="a department (default: all cases)")
    t.add_argument("--limit", type=int, default=50, help="topics to print")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    t.set_defaults(func=cmd_topics)

    t = tsub.add_parser("gaps", help="topics and logged queries no published FAQ answers")
    t.add_argument("--department", default="", help="topics of this department only")
    t.add_argument(
        "--min-count", type=_positive, default=1, help="ignore rarer queries (1 or more)"
    )
    t.add_argument(
        "--period", choices=["month", "day"], default="month", help="count queries per period"
    )
    t.add_argument("--limit", type=int, default=20, help="rows per list")
    t.add_argument("--json", action="store_true", help="print JSON instead of tables")
    t.set_defaults(func=cmd_gaps)

    t = tsub.add_parser("manual", help="a draft manual for one department")
    t.add_argument("--department", required=True, help="the department the manual is for")
    t.add_argument("--format", choices=["md", "docx"], default="md", help="Markdown or Word (docx)")
    t.add_argument("--out", type=Path, default=None, help="file (default: stdout for md)")
    t.set_defaults(func=cmd_manual)

    t = tsub.add_parser("candidates", help="list FAQ candidates")
    t.set_defaults(func=cmd_candidates)

    t = tsub.add_parser("draft", help="draft an FAQ entry for a topic (unpublished)")
    t.add_argument("topic", help="topic id, e.g. all-03 (see `kb trainer gaps`)")
    _add_as(t)
    t.set_defaults(func=cmd_draft)

    t = tsub.add_parser("revise", help="draft a revision of a stored FAQ entry (unpublished)")
    t.add_argument("faq", help="FAQ id, e.g. F0001")
    _add_fields(t)
    _add_as(t)
    t.set_defaults(func=cmd_revise)

    t = tsub.add_parser(
        "approve",
        help="approve an FAQ candidate; the last approval needed (KB_FAQ_APPROVERS) publishes "
        "it (incremental index build)",
    )
    t.add_argument("id", help="candidate id, e.g. FC0001")
    _add_fields(t, "first")
    _add_as(t)
    t.set_defaults(func=cmd_approve)

    t = tsub.add_parser("reject", help="reject an FAQ candidate with a reason (却下)")
    t.add_argument("id", help="candidate id, e.g. FC0001")
    t.add_argument("--reason", required=True, help="why (kept and shown with the candidate)")
    _add_as(t)
    t.set_defaults(func=cmd_reject)

    t = tsub.add_parser(
        "withdraw", help="withdraw a published FAQ entry from the widget (公開停止; kept for staff)"
    )
    t.add_argument("faq", help="FAQ id, e.g. F0001")
    t.add_argument("--reason", default="", help="why (written to the audit log)")
    _add_as(t)
    t.set_defaults(func=cmd_withdraw)

    t = tsub.add_parser("republish", help="publish a withdrawn FAQ entry again (再公開)")
    t.add_argument("faq", help="FAQ id, e.g. F0001")
    _add_as(t)
    t.set_defaults(func=cmd_republish)

    t = tsub.add_parser(
        "feedback-eval", help="department accuracy before/after replaying staff feedback"
    )
    t.add_argument(
        "dataset",
        type=Path,
        nargs="?",
        default=Path("eval/datasets/demo"),
        help="BEIR-layout folder (default: %(default)s)",
    )
    t.add_argument("--queries", default="queries.jsonl", help="queries file in the dataset")
    t.add_argument("--folds", type=int, default=2, help="cross-validation folds")
    t.add_argument(
        "--paraphrases",
        default="queries-paraphrase.jsonl",
        help="other phrasings of the queries (same _id), measured after feedback on the originals",
    )
    t.add_argument("--weight", type=float, default=1.0, help="feedback_weight to measure")
    t.add_argument("--json", type=Path, default=None, help="also write the figures here")
    t.set_defaults(func=cmd_feedback_eval)


def _add_as(parser: Any) -> None:
    parser.add_argument(
        "--as",
        dest="as_",
        default=None,
        metavar="NAME",
        help="who acts, as the API key names them (default: the OS user); counts for "
        "KB_FAQ_APPROVERS",
    )


def _add_fields(parser: Any, when: str = "") -> None:
    """Options for the fields of an FAQ entry (``None``: keep)."""
    first = f" {when}" if when else ""
    for name, label in FIELD_NAMES.items():
        parser.add_argument(
            f"--{name}", default=None, help=f"set the {label} ({name}){first} (default: keep)"
        )
