"""What the ingest says about a row and its fields (:mod:`kb.ingest`: dates, values,
columns, the column mapping, rows), in :data:`kb.messages.MESSAGES`; about a whole file, in
:mod:`kb.message_tables.files`."""

from __future__ import annotations

INGEST: dict[str, tuple[str, str]] = {
    # --- dates (kb.ingest.dates) ------------------------------------------------------------
    "date.unreadable": (
        "「{value}」は日付として読めません。使える書き方: {forms}（全角数字も可）",
        "date '{value}' is not YYYY-MM-DD or another accepted form: {forms} "
        "(full-width digits too)",
    ),
    "date.not_in_calendar": (
        "「{value}」は存在しない日付です",
        "date '{value}' does not exist",
    ),
    "date.era_span": ("元年〜{last}年", "1-{last}"),
    "date.era_open": ("元年から", "from 1"),
    "date.era_year": (
        "「{value}」: {era}{year}年はありません（{era}は{span}）",
        "date '{value}': {era}{year}年 does not exist ({span})",
    ),
    "date.era_days": (
        "「{value}」: {era}は{first}から{last}までです。{iso} は{actual}と書いてください",
        "date '{value}': {era} ran from {first} to {last}; {iso} is {actual}",
    ),
    "date.era_days_open": (
        "「{value}」: {era}は{first}からです。{iso} は{actual}と書いてください",
        "date '{value}': {era} began on {first}; {iso} is {actual}",
    ),
    "date.era_carried_over": (
        "「{value}」は{actual}として読みました（{iso}。{era}は{last}までです）。行は取り込みました",
        "date '{value}' was read as {actual} ({iso}; {era} ended on {last}); the row was stored",
    ),
    "date.window": (
        "「{value}」は{year}年です。相談日は{earliest}年から{latest}年までの日付にしてください",
        "date '{value}' is in {year}; a case date must lie between {earliest} and {latest}",
    ),
    "date.serial_read": (
        "「{value}」を Excel の日付の通し番号として {date} と読みました。"
        "CSV で保存すると日付の列がこの数になることがあります",
        "read '{value}' as an Excel day number: {date} (a date column saved as CSV keeps "
        "these numbers)",
    ),
    "date.serial": (
        "数値「{value}」は Excel の日付として読めません。使える書き方: {forms}",
        "the number '{value}' is not an Excel date; accepted forms: {forms}",
    ),
    # --- values (kb.ingest.schema) ----------------------------------------------------------
    "value.required": ("必須の値が空です", "required value is empty"),
    "value.published": (
        "公開フラグ「{value}」は true/false, 1/0, yes/no, 公開/非公開, はい/いいえ, ○/× の"  # noqa: RUF001
        "どれでもありません",
        "published flag '{value}' is not one of true/false, 1/0, yes/no, 公開/非公開, "
        "はい/いいえ, ○/×",  # noqa: RUF001
    ),
    "value.channel": (
        "相談経路「{value}」は {known} のどれでもありません",
        "channel '{value}' is not one of {known}",
    ),
    "value.url": (
        "URL「{value}」は http:// か https:// で始まるアドレスではありません",
        "url '{value}' is not an http:// or https:// address",
    ),
    "value.id": (
        "ID「{value}」に空白・制御文字・「#」は使えません",
        "id '{value}' must not contain spaces, control characters or '#'",
    ),
    "value.in_column": ("列「{header}」: {message}", "column '{header}': {message}"),
    # --- warnings: the row is kept ------------------------------------------------------------
    "warn.channel_kept": (
        "{problem}。行は取り込み、値は書かれたとおり「{value}」として保存しました",
        "{problem}; the row was stored with the value as written ('{value}')",
    ),
    "warn.channel_mapped": (
        "相談経路「{value}」を「{channel}」として取り込みました（{rows} 行）",
        "channel '{value}' was read as '{channel}' ({rows} row(s))",
    ),
    "warn.department_read": (
        "担当課「{value}」を「{names}」として取り込みました（{rows} 行）",
        "department '{value}' was read as '{names}' ({rows} row(s))",
    ),
    "warn.department_spelling": ("「{value}」", "'{value}'"),
    "warn.department_spellings_separator": ("、", ", "),
    "warn.department_read_many": (
        "担当課の {count} 通りの書き方（{values}）を「{names}」として取り込みました（{rows} 行）",
        "{count} spellings of a department ({values}) were read as '{names}' ({rows} row(s))",
    ),
    "warn.department_sections": (
        "担当課「{value}」は部署一覧では係ごと（{sections}）に載っています（{rows} 行）。"
        "行は取り込みましたが、どの係の連絡先を表示するか決められません。担当課に係まで書くか、"
        "部署一覧に係名の空いた課の行を加えてください",
        "department '{value}' is listed section by section ({sections}) ({rows} row(s)); the "
        "rows were stored, but which section's contact to show cannot be told: name the section "
        "or add a row for the department without a section to the directory",
    ),
    "warn.department_person": (
        "担当課の欄で部署名の後ろに書かれた語（担当者の名前とみなしました）は取り込んでいません"
        "（{rows} 件）。担当課には部署名だけを書いてください",
        "a word written after a department name in the department cell (taken for the person "
        "in charge) was not stored ({rows} value(s)); write only the department there",
    ),
    "warn.department_unknown": (
        "担当課「{value}」は部署一覧にありません（{rows} 行）。行は取り込みましたが、"
        "連絡先（電話・窓口）を表示できません。部署一覧の部署名か別名（通称）に加えてください",
        "department '{value}' is not in the directory ({rows} row(s)); the rows were stored, "
        "but no contact (phone, counter) can be shown: add it to the directory as a name or "
        "an alias",
    ),
    "warn.stored_departments_unmatched": (
        "保存済みの文書 {docs} 件の担当課が、この部署一覧にありません（{names}）。"
        "連絡先（電話・窓口）を表示できません。部署一覧より先に取り込んだ文書なら、"
        "そのファイルをもう一度取り込むと部署一覧と照合し直します",
        "{docs} stored document(s) name departments this directory does not have ({names}); "
        "no contact (phone, counter) can be shown for them: if they were ingested before the "
        "directory, ingest their files again to match them with it",
    ),
    "warn.published_kept": (
        "{problem}。行は取り込み、非公開として保存しました",
        "{problem}; the row was stored as not published",
    ),
    "warn.value_left_out": (
        "{problem}。行は取り込み、この値は保存していません",
        "{problem}; the row was stored without this value",
    ),
    "warn.url_dropped": (
        "{problem}。行は取り込み、URL は保存していません",
        "{problem}; the row was stored without the url",
    ),
    "warn.column_ignored": (
        "列「{header}」は保存先の項目がないため取り込みません",
        "column '{header}' has no field to go to and is not stored",
    ),
    "warn.column_mapped_ignored": (
        "列「{header}」は対応表 ({mapping}) の指定により取り込みません",
        "column '{header}' is not stored, as the column mapping ({mapping}) says",
    ),
    # --- columns (kb.ingest.columns) ----------------------------------------------------------
    "columns.problems": (
        "列の見出しに {count} 件の問題があり、このファイルは取り込んでいません:\n{problems}\n"
        "{kind} で使える列名: {accepted}\n"
        "独自の見出しは対応表で指定できます（kb ingest --columns 対応表.toml、"
        "KB_COLUMNS_FILE）",
        "{count} problem(s) with the column headers; the file was not stored:\n{problems}\n"
        "columns accepted for {kind}: {accepted}\n"
        "a city's own headers can be mapped with a column mapping file (kb ingest --columns "
        "map.toml, KB_COLUMNS_FILE)",
    ),
    "columns.unknown": (
        "・不明な列「{header}」（{column} 列目）{hint}",
        "- unknown column '{header}' (column {column}){hint}",
    ),
    "columns.unknown_hint": ("。もしかして「{close}」?", "; did you mean '{close}'?"),
    "columns.duplicate": (
        "・列「{first}」と「{second}」がどちらも {field} を表しています",
        "- columns '{first}' and '{second}' both mean '{field}'",
    ),
    "columns.too_many": (
        "見出し行に列が {count:,} 列あります（上限 {limit:,} 列）。使っていない列を削除してから"
        "取り込んでください。何も保存されません",
        "the header has {count:,} columns, more than the limit of {limit:,}: delete the unused "
        "columns and ingest it again. Nothing was stored",
    ),
    "columns.missing": (
        "・必須の列 {field}（{aliases}）がありません",
        "- missing required column '{field}' ({aliases})",
    ),
    "columns.kind_unknown": (
        "列（{headers}）からファイルの種類（FAQ・相談記録・担当課）が判断できません。"
        "決められた列名を使うか、種類を指定してください（--kind）",
        "cannot tell which kind of file this is from its columns ({headers}); use the "
        "documented column names or give the kind explicitly (--kind)",
    ),
    "columns.kind_tie": (
        "列（{headers}）が {kinds} のどちらにも同じだけ当てはまります。種類を指定してください"
        "（--kind）",
        "columns fit {kinds} equally; which kind of file this is from its columns "
        "({headers}); use the documented column names or give the kind explicitly (--kind)",
    ),
    "columns.none": ("（なし）", "(none)"),
    "columns.accepted": ("{name}（{aliases}）", "{name} ({aliases})"),
    "columns.alias_separator": ("、", ", "),
    "columns.no_kind": (
        "種類「{kind}」には列がありません（マニュアルは文書として読みます）",
        "kind '{kind}' has no columns (manuals are documents)",
    ),
    # --- the column mapping file --------------------------------------------------------------
    "mapping.unreadable": (
        "対応表を読めません: {problem}",
        "cannot read the column mapping: {problem}",
    ),
    "mapping.toml": (
        '対応表のこの行を読めません。1 行に 1 つ、見出し = "項目名" の形で書いてください'
        '（例: 受付番号 = "id"。値は "" で囲みます）。TOML の解析結果: {problem}',
        'this line of the column mapping cannot be read; write one header = "field" a line'
        ' (受付番号 = "id"; the value in double quotes). TOML parser: {problem}',
    ),
    "mapping.section": (
        "不明な項目です。使えるのは [faq] [case] [department] [channel] [status] [category] と"
        " sheet です",
        "unknown entry; use [faq], [case], [department], [channel], [status], [category] and sheet",
    ),
    "mapping.not_table": (
        '[{section}] は「見出し = "項目"」の表にしてください',
        '[{section}] must be a table of header = "field" entries',
    ),
    "mapping.not_text": (
        '値は文字列（"id" など）にしてください',
        'the value must be a string (such as "id")',
    ),
    "mapping.target": (
        "「{target}」は {kind} の項目ではありません。使える項目: {fields}、または取り込まない"
        '列には "-"',
        "'{target}' is not a field of {kind}; use one of {fields}, or \"-\" for a column not "
        "to store",
    ),
    "mapping.channel": (
        "「{target}」は相談経路ではありません。使える値: {known}",
        "'{target}' is not a channel; use one of {known}",
    ),
    "mapping.sheet": (
        "sheet はシート名の文字列にしてください",
        "sheet must be the name of a sheet",
    ),
    # --- rows (kb.ingest.tabular, kb.ingest.xlsx_reader) --------------------------------------
    "rows.cell_count": (
        "セルの数が {got} 個で、見出しの {expected} 個と合いません",
        "expected {expected} cells like the header, got {got}",
    ),
    "rows.duplicate_copy": (
        "{field}「{key}」の行は {first} 行目とまったく同じ内容です。1 件として取り込みました",
        "{field} '{key}' repeats line {first} exactly; stored once",
    ),
    "rows.note_skipped": (
        "表の注記（1 つのセルだけの文）とみなして読み飛ばしました",
        "read as a note below the table (one cell of text) and skipped",
    ),
    "rows.totals_skipped": (
        "合計の行とみなして読み飛ばしました",
        "read as the totals row and skipped",
    ),
    "rows.headerless_value": (
        "見出しのない列に値があります",
        "value in a column without header",
    ),
    "rows.preamble_skipped": (
        "見出しの前の行（{lines} 行目）は見出しではないため読み飛ばし、この行を見出しとしました",
        "the lines above the header (line(s) {lines}) are no header and were skipped; this line "
        "is the header",
    ),
    "ingest.replaced_other_file": (
        "{count} 件（id {ids} など）は、前に別のファイル（{old} など）から取り込んだ"
        "同じ id の記録を置き換えました。別の記録なら、id が重ならないようにして"
        "両方のファイルを取り込み直してください",
        "{count} record(s) (id {ids}...) replaced records of the same id read earlier from "
        "another file ({old}...); if they are different records, give them ids that do not "
        "overlap and ingest both files again",
    ),
    "rows.cancelled": (
        "状態が取消・誤登録の行（{lines}、{count} 件）は相談事例として取り込んでいません",
        "rows whose status says cancelled or entered in error (lines {lines}, {count}) were "
        "not stored as cases",
    ),
    "rows.duplicate": (
        "{field}「{key}」が重複しています（最初は {first} 行目）。この行は取り込んでいません。"
        "後の行が訂正なら、最初の行を消してから取り込み直してください",
        "duplicate {field} '{key}' (first on line {first}); row skipped",
    ),
    "rows.header_unreadable": (
        "見出し行を読めません: {problem}",
        "cannot read the header: {problem}",
    ),
    "rows.malformed_csv": ("CSV の形式が壊れています: {problem}", "malformed CSV: {problem}"),
    "rows.unclosed_quote": (
        '引用符（"）で始まるセルが閉じられていません。ファイルの最後まで続くため、'
        "{first} 行目から {last} 行目まで（{lines:,} 行）は取り込んでいません",
        "a quoted cell is never closed: it runs to the end of the file, so lines {first}-{last} "
        "({lines:,} lines) were not stored",
    ),
    "rows.cell_too_long": (
        "セルが {limit:,} 文字を超えています（引用符の閉じ忘れ?）。この行は取り込んでいません",
        "a cell is longer than {limit:,} characters (a quote never closed?); row skipped",
    ),
    "rows.invalid_json": (
        "JSON として正しくありません: {problem}（{column} 文字目）",
        "invalid JSON: {problem} (column {column})",
    ),
    "json.expecting_value": (
        '値がありません（「,」「:」の後や行の先頭に、値か「"」で囲んだ文字列が必要です）',
        "a value is missing (after a ',' or ':', or at the start of the line)",
    ),
    "json.expecting_comma": (
        "項目の間に「,」がありません",
        "a ',' is missing between two items",
    ),
    "json.expecting_colon": (
        "項目名の後に「:」がありません",
        "a ':' is missing after a key",
    ),
    "json.expecting_key": (
        '項目名が「"」で囲まれていません（最後の項目の後の「,」も不要です）',
        "a key is not in double quotes (or a ',' follows the last item)",
    ),
    "json.extra_data": (
        "1 行に JSON が 1 つより多くあります（閉じかっこの後に続きがあります）",
        "more than one JSON value on the line (something follows the closing bracket)",
    ),
    "json.unterminated": (
        '「"」で始まる文字列が閉じられていません',
        "a string in double quotes is never closed",
    ),
    "json.control_character": (
        "文字列の中に制御文字（タブ・改行など）がそのまま入っています。\\t や \\n と書きます",
        "a control character (a tab, a line break) is written as it is inside a string; "
        "write \\t or \\n",
    ),
    "json.escape": (
        "「\\」の後の文字が正しくありません（「\\」そのものは \\\\ と書きます）",
        "a '\\' is followed by a character JSON does not allow (write a '\\' as '\\\\')",
    ),
    "rows.csv_after_quote": (
        '引用符（"）で閉じたセルの後に区切り文字（{delimiter}）がありません。セルの中の " は '
        '"" と 2 つ重ねて書きます',
        'a cell closed by a quote (") is not followed by the delimiter ({delimiter}); write a " '
        'inside a cell as ""',
    ),
    "rows.json_too_many_keys": (
        "この行の JSON には項目が {count:,} 個あります（上限 {limit:,} 個）。この行は取り込んで"
        "いません",
        "the JSON object of this line has {count:,} keys, more than the limit of {limit:,}; the "
        "line was not stored",
    ),
    "rows.json_number": (
        'JSON の数値が {digits:,} 桁を超えています。文字列（"..."）にしてください',
        'a JSON number has more than {digits:,} digits; write it as a string ("...")',
    ),
    "rows.not_object": (
        "JSON のオブジェクト（{{...}}）ではなく{got}です",
        "expected a JSON object, got {got}",
    ),
    "rows.list_items": (
        "リストの要素は文字列にしてください（{got}があります）",
        "list items must be strings, got {got}",
    ),
    "rows.not_string": (
        "値が文字や数字ではなく{got}です",
        "expected a string, got {got}",
    ),
    "rows.optional_dropped": (
        "{problem}。この項目は保存せず、行は取り込みました",
        "{problem}; the row was stored without this value",
    ),
    "rows.empty_file": ("ファイルが空です", "file is empty"),
    "json.object": ("入れ子の項目（{{...}}）", "an object"),
    "json.list": ("一覧（[...]）", "a list"),
    "json.string": ("文字列", "a string"),
    "json.boolean": ("真偽値", "a boolean"),
    "json.number": ("数値", "a number"),
    "json.null": ("null", "null"),
}
