"""What an ingest did, in words for the city staff who ran it (the command line, the upload).

The counts tell the truth: documents written (added or changed), unchanged, warnings (rows kept
with a problem) and errors (rows and files not stored), and the closing line says that the
other rows were stored only when some were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.messages import Lang, msg

if TYPE_CHECKING:
    from kb.ingest.pipeline import IngestReport


def summary_lines(
    report: IngestReport, *, details: bool = True, lang: Lang | None = None
) -> list[str]:
    """The report of an ingest as lines of text.

    Args:
        report: The ingest's report.
        details: Add a line per warning and per error (the command line); without, only the
            counts and the closing line (the upload's response lists them as data).
        lang: The language (default: :func:`kb.messages.current_language`).
    """
    s = report.stats
    failed = len(set(report.failed_files))
    lines = [
        msg(
            "report.files",
            lang=lang,
            files=len(report.files) - failed,  # a refused file was not ingested
            documents=report.documents,
            departments=report.departments,
            chunks=report.chunks,
            added=s.added,
            updated=s.updated,
            unchanged=s.unchanged,
        ),
        msg(
            "report.counts",
            lang=lang,
            stored=report.stored,
            added=s.added,
            updated=s.updated,
            unchanged=s.unchanged,
            warnings=len(report.warnings),
            errors=len(report.errors),
        ),
    ]
    if failed:
        lines.append(msg("report.files_failed", lang=lang, count=failed))
    if report.masked:
        lines.append(msg("report.masked", lang=lang, count=report.masked))
    if report.procedures:
        changed = report.procedures_changed
        lines.append(msg("report.procedures", lang=lang, count=report.procedures, changed=changed))
    if details:
        unread = set(report.failed_files)
        lines.extend(msg("report.warning", lang=lang, problem=str(w)) for w in report.warnings)
        for error in report.errors:
            key = "report.failed_file" if error.source in unread else "report.error"
            lines.append(msg(key, lang=lang, problem=str(error)))
    closing = closing_line(report, lang=lang)
    if closing:
        lines.append(closing)
    return lines


def closing_line(report: IngestReport, *, lang: Lang | None = None) -> str:
    """Whether the good rows were stored, said only when it is true; ``""`` if all went well."""
    kept = report.stats.added + report.stats.updated + report.stats.unchanged + report.procedures
    if report.errors:
        if kept:
            unread = set(report.failed_files)
            rows = sum(1 for error in report.errors if error.source not in unread)
            if unread:  # a file refused whole is not "a row with a problem"
                return msg(
                    "report.some_stored_files", lang=lang, files=len(unread), errors=rows, kept=kept
                )
            return msg("report.some_stored", lang=lang, errors=len(report.errors), kept=kept)
        return msg("report.none_stored", lang=lang, errors=len(report.errors))
    if not kept:
        return msg("report.nothing", lang=lang)
    return ""
