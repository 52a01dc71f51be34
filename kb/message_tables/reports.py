"""The ingest report (:mod:`kb.ingest.summary`) and the admin upload's answers
(:mod:`kb.api.routes.admin`): part of :data:`kb.messages.MESSAGES`."""

from __future__ import annotations

REPORTS: dict[str, tuple[str, str]] = {
    # --- reports (kb.ingest.summary) ----------------------------------------------------------
    "report.files": (
        "{files} 件のファイルを取り込みました: 文書 {documents} 件、担当課 {departments} 件、"
        "チャンク {chunks} 個",
        "ingested {files} file(s): {documents} documents, {departments} departments, "
        "{chunks} chunks ({added} added, {updated} updated, {unchanged} unchanged)",
    ),
    "report.files_failed": (
        "{count} 件のファイルは読めなかったため取り込んでいません"
        "（理由は「読めなかったファイル」）",
        "{count} file(s) could not be read and were not ingested (see 'file not read')",
    ),
    "report.counts": (
        "保存 {stored} 件（新規 {added}・更新 {updated}）、変更なし {unchanged} 件、"
        "警告 {warnings} 件、エラー {errors} 件",
        "stored {stored}, unchanged {unchanged}, warnings {warnings}, errors {errors}",
    ),
    "report.masked": (
        "{count} 件の文書で個人情報を伏せてから保存しました",
        "masked personal data in {count} document(s) before storing them",
    ),
    "report.procedures": (
        "手続き {count} 件（追加・変更 {changed} 件）をチェックリスト用に保存しました",
        "stored {count} procedure(s) for the life-event checklists ({changed} added or changed)",
    ),
    "report.warning": ("  警告: {problem}", "  warning: {problem}"),
    "report.error": ("  取り込まなかった行: {problem}", "  skipped: {problem}"),
    "report.failed_file": (
        "  読めなかったファイル: {problem}",
        "  file not read: {problem}",
    ),
    "report.some_stored": (
        "{errors} 件の問題があった行は取り込んでいません。それ以外の {kept} 件は保存済みです",
        "{errors} problem(s) reported; the other {kept} record(s) are stored",
    ),
    "report.some_stored_files": (
        "読めなかったファイル {files} 件と、問題があった行 {errors} 件は取り込んでいません。"
        "ほかの {kept} 件は保存済みです",
        "{files} file(s) not read and {errors} row problem(s); the other {kept} record(s) "
        "are stored",
    ),
    "report.none_stored": (
        "{errors} 件の問題があり、保存された行はありません",
        "{errors} problem(s) reported; no row was stored",
    ),
    "report.nothing": (
        "取り込める行がありませんでした",
        "there was nothing to store",
    ),
    # --- admin upload (kb.api.routes.admin) ---------------------------------------------------
    "upload.not_multipart": (
        "ファイルは multipart/form-data の 'files' という欄で送ってください",
        "send the files as multipart/form-data, each in a field named 'files'",
    ),
    "upload.too_large": (
        "アップロードが {limit:,} バイト (max_upload_bytes) を超えています。何回かに分けるか、"
        "KB_MAX_UPLOAD_BYTES を増やしてください",
        "the upload is larger than {limit:,} bytes (max_upload_bytes); split it into several "
        "uploads or raise KB_MAX_UPLOAD_BYTES",
    ),
    "upload.no_files": (
        "ファイルがありません。multipart の 'files' という欄で送ってください",
        "no files: send them in multipart fields named 'files'",
    ),
    "upload.bad_name": (
        "ファイル名 {name} は使えません: {problem}",
        "file name {name} is not usable: {problem}",
    ),
    "upload.bad_name_plain": ("ファイル名 {name} は使えません", "file name {name} is not usable"),
    "upload.unsupported": (
        "{name}: 対応していないファイル形式です（使える形式: {supported}）",
        "{name}: unsupported file type (supported: {supported})",
    ),
    "upload.twice": (
        "{name}: 同じファイル名が 2 回送られました",
        "{name}: the same file name was sent twice",
    ),
    "upload.bad_kind": (
        "種類 {kind} はありません。{kinds} のどれかを指定してください",
        "unknown kind {kind}; use one of {kinds}",
    ),
}
