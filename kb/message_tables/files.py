"""What the ingest says about a whole file (:mod:`kb.ingest.readers`, encoding, workbooks,
JSON lines, manuals: Markdown, DOCX, PDF), in :data:`kb.messages.MESSAGES`."""

from __future__ import annotations

FILES: dict[str, tuple[str, str]] = {
    # --- files (kb.ingest.readers, kb.ingest.encoding, kb.ingest.xlsx_reader) -----------------
    "files.unsupported": (
        "対応していないファイル形式「{suffix}」です（使える形式: {supported}）",
        "unsupported file type '{suffix}' (supported: {supported})",
    ),
    "files.old_excel": (
        "「{suffix}」は読めません。Excel で「Excel ブック (*.xlsx)」か CSV として保存し直して"
        "ください",
        "'{suffix}' cannot be read; save it from Excel as an Excel workbook (.xlsx) or as CSV",
    ),
    "files.missing": ("ファイルがありません", "no such file"),
    "files.not_regular": ("通常のファイルではありません", "not a regular file"),
    "files.is_dir": ("フォルダーです。ファイルではありません", "is a directory, not a file"),
    "files.unreadable": ("ファイルを読めません: {problem}", "cannot read file: {problem}"),
    "files.unreadable_folder": (
        "フォルダーの中を読めません: {problem}。このフォルダーのファイルは取り込んでいません",
        "cannot list the folder: {problem}; its files were not read",
    ),
    "files.not_manual_table": (
        "{suffix} ファイルにマニュアルは入れられません（.md/.docx/.pdf を使ってください）",
        "a {suffix} file cannot hold manuals (use .md/.docx/.pdf)",
    ),
    "files.manual_kind": (
        "{suffix} ファイルはマニュアルです。「{kind}」としては読めません",
        "a {suffix} file is a manual; it cannot be read as '{kind}'",
    ),
    "files.no_body": (
        "本文が見つかりません（タイトルや見出しだけです）。何も保存されません",
        "no body text found (only a title or headings); nothing would be stored",
    ),
    "files.none_found": ("取り込めるファイルが見つかりません", "no supported files found"),
    "files.reader_failed": (
        "読み込みに失敗しました（{problem}）",
        "cannot be read ({problem})",
    ),
    "files.too_many_rows": (
        "{limit} 件を超える行があります (max_rows_per_file)。このファイルは保存していません",
        "more than {limit} records (max_rows_per_file); the file was not stored",
    ),
    "files.duplicate_id": (
        "ID {doc_id} は {first} にもあります。この行を保存し、{first} の行は取り込んでいません",
        "id {doc_id} is also in {first}; this row was stored and the one of {first} was not",
    ),
    "files.undecodable": (
        "文字コードを判別できません: UTF-8 でも Shift_JIS/CP932 でもありません（{codec} として"
        "読むとバイト {byte} で失敗）。UTF-8 で保存し直してください",
        "cannot decode the file: not UTF-8 or Shift_JIS/CP932 text ({codec} fails at byte "
        "{byte}); save it as UTF-8",
    ),
    "xlsx.unreadable": (
        "Excel ブック (.xlsx) として読めません（{problem}）。Excel で開いて .xlsx として保存し"
        "直してください",
        "not a readable Excel .xlsx workbook ({problem}); open it in Excel and save it as .xlsx",
    ),
    "xlsx.no_sheet": (
        "シート「{sheet}」がありません（このブックのシート: {sheets}）",
        "there is no sheet '{sheet}' (the workbook's sheets: {sheets})",
    ),
    "xlsx.row_beyond": (
        "シート「{sheet}」に Excel の最終行（{limit:,} 行目）より後の行番号があります。"
        "Excel で作られたブックではないか、壊れています。Excel で開いて保存し直してください",
        "sheet '{sheet}' has a row numbered after Excel's last row ({limit:,}): the workbook "
        "was not made by Excel or is damaged; open it in Excel and save it again",
    ),
    "xlsx.empty": ("シート「{sheet}」は空です", "sheet '{sheet}' is empty"),
    "xlsx.other_sheets": (
        "シート「{sheet}」だけを読みました。ほかのシート（{sheets}）の行は取り込んでいません。"
        "読むシートは --sheet で選べます",
        "only sheet '{sheet}' was read; the rows of the other sheets ({sheets}) were not "
        "stored. Choose the sheet with --sheet",
    ),
    "xlsx.hidden_rows": (
        "シート「{sheet}」の非表示の行（{lines}）は取り込んでいません。"
        "取り込むときは Excel で行を再表示してから保存してください",
        "the hidden rows of sheet '{sheet}' (rows {lines}) were not stored; unhide them in "
        "Excel and save to store them",
    ),
    "xlsx.uncomputed": (
        "シート「{sheet}」の数式 {count} 個（{cells}）に計算結果が保存されていないため、空のセル"
        "として読みました（kb は数式を計算しません）。Excel で開いて保存し直してから、もう一度"
        "取り込んでください",
        "{count} formulas of sheet '{sheet}' ({cells}) have no saved result, so they were read "
        "as empty cells (kb does not compute formulas): open the file in Excel, save it, and "
        "ingest it again",
    ),
    "xlsx.hidden_columns": (
        "シート「{sheet}」の非表示の列（{columns} 列）も取り込みました。"
        '公開したくない内容（内部メモなど）があれば、その列を対応表で "-" にしてください',
        "the hidden columns of sheet '{sheet}' ({columns}) were read too; map a column of "
        'internal notes to "-" in the column mapping to leave it out',
    ),
    "rows.more_lines": ("{lines} 行目ほか {count} 行", "{lines} and {count} more"),
    "rows.lines": ("{lines} 行目", "{lines}"),
    "rows.same_warning": (
        "（同じ警告が {count} 行: {lines}）",
        " (the same warning on {count} rows: lines {lines})",
    ),
    "xlsx.sheets_hint": (
        "（シート「{sheet}」を読みました。このブックのシート: {sheets}。別のシートは --sheet "
        "で指定できます）",
        "(read sheet '{sheet}'; the workbook's sheets: {sheets}; choose another with --sheet)",
    ),
    # --- manuals (kb.ingest.markdown, docx_reader, pdf_reader) ----------------------------------
    "manual.front_matter": (
        "1 行目から始まるフロントマター（---）が '---' で閉じられていません",
        "front matter starting at line 1 is not closed with '---'",
    ),
    "manual.docx_unreadable": (
        "Word の .docx ファイルとして読めません（{problem}）。Word で .docx として保存し直して"
        "ください",
        "not a readable Word .docx file ({problem}); re-save it from Word as .docx",
    ),
    "manual.docx_empty": ("文書に本文がありません", "the document contains no text"),
    "manual.pdf_no_text": (
        "PDF から文字を取り出せません（スキャンした画像?）。OCR をかけるか、本文を .docx/.md で"
        "用意してください",
        "the PDF has no extractable text (a scanned image?); run OCR on it or supply the text "
        "as .docx/.md",
    ),
    "manual.pdf_no_body": (
        "本文が見つかりません（タイトル・見出し・ページ番号・ヘッダー/フッターだけです）。"
        "何も保存されません",
        "no body text found (only a title, headings, page numbers or running headers and "
        "footers); nothing would be stored",
    ),
    "manual.pdf_password": (
        "PDF にパスワードがかかっています",
        "the PDF is protected by a password",
    ),
    "manual.pdf_unreadable": (
        "PDF ファイルとして読めません（{problem}）",
        "not a readable PDF file ({problem})",
    ),
    "manual.pdf_pages_unreadable": (
        "どのページからも文字を取り出せません（{page} ページ目: {problem}）。ファイルが壊れて"
        "いるか、展開すると大きすぎるデータを含んでいます。何も保存されません",
        "no page's text could be extracted (page {page}: {problem}); the file is damaged or "
        "holds data too large to unpack. Nothing is stored",
    ),
    "manual.pdf_page": (
        "{page} ページ目の文字を取り出せません（{problem}）。このページは飛ばしました",
        "page {page}: cannot extract text ({problem}); skipped",
    ),
}
