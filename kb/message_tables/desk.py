"""The consultation desk and its procedures: part of :data:`kb.messages.MESSAGES`.

Consultation records and hand-offs (:mod:`kb.desk.records`, :mod:`kb.desk.handoff`), booking
files and briefs (:mod:`kb.desk.bookings`, :mod:`kb.desk.briefs`), ``kb records``
(:mod:`kb.desk.commands`) and the procedures file of the life-event checklists
(:mod:`kb.ingest.procedures`, :mod:`kb.ingest.procedure_terms`). The printed hand-off sheet is a
Japanese city form and stays Japanese whatever the language.
"""

from __future__ import annotations

DESK: dict[str, tuple[str, str]] = {
    "desk.closing_too_fast": (
        "1 分間に完了にできる相談記録は {per_minute} 件までです。少し待ってからもう一度"
        "「完了にする」を押してください",
        "a key may close at most {per_minute} records a minute; wait a moment and close again",
    ),
    "desk.writing_too_fast": (
        "保存する文章が多すぎます（1 分間に {per_minute:,} 文字まで）。少し待ってからもう一度"
        "保存してください",
        "too much text saved by this key (at most {per_minute:,} characters a minute); wait "
        "a moment and save again",
    ),
    "desk.briefing_too_fast": (
        "1 分間に作れる予約の下調べは {per_minute} 件までです（一度に {burst} 件まで）。少し"
        "待ってからもう一度試してください",
        "a key may have at most {per_minute} bookings briefed a minute ({burst} at once); wait "
        "a moment and try again",
    ),
    # --- consultation records (kb.desk.records) ----------------------------------------------
    "desk.unknown_department": (
        "担当課「{name}」は担当課一覧にありません",
        "department '{name}' is not in the department directory",
    ),
    "desk.too_long": (
        "{field}が長すぎます（{n:,} 文字、上限 {limit:,} 文字）",
        "{field} is too long ({n:,} characters, at most {limit:,})",
    ),
    "desk.channel": (
        "相談経路は {channels} のいずれかです",
        "the channel must be one of {channels}",
    ),
    "desk.bad_date": ("相談日: {problem}", "consultation date: {problem}"),
    "desk.query_too_long": (
        "検索履歴の1件が {limit:,} 文字を超えています",
        "a search in the history is longer than {limit:,} characters",
    ),
    "desk.no_record": ("相談記録 {id} はありません", "there is no consultation record {id}"),
    "desk.record_closed": (
        "相談記録 {id} は完了しています（変更できません）",
        "consultation record {id} is closed and cannot be changed",
    ),
    "desk.record_busy": (
        "相談記録 {id} はほかの職員が続けて更新しているため保存できませんでした。"
        "開き直してからもう一度保存してください",
        "consultation record {id} kept being changed by other staff, so this change was not "
        "saved; open it again and save again",
    ),
    "desk.no_store": (
        "検索データ（{name}）がないため、記録を事例として登録できません。管理者に連絡してください",
        "there is no search data ({name}), so the record cannot be stored as a case; contact "
        "the administrator",
    ),
    "desk.close_missing": (
        "完了にするには「{fields}」を入力してください",
        "fill in '{fields}' to close the record",
    ),
    "desk.fields_joiner": ("」と「", "' and '"),
    "desk.field_citizen_words": ("相談内容", "the citizen's words"),
    "desk.field_notes": ("メモ", "the note text"),
    "desk.field_actions": ("対応内容", "the actions taken"),
    "desk.field_category": ("分類", "the category"),
    # --- hand-offs (kb.desk.handoff) -----------------------------------------------------------
    "desk.field_to_outside": ("引継先（外部機関）", "the outside body"),
    "desk.field_summary": ("相談の概要", "the summary"),
    "desk.field_heard": ("聞き取った内容", "what was heard"),
    "desk.field_done": ("対応済みの内容", "what was done"),
    "desk.field_bring": ("持参するもの", "what to bring"),
    "desk.no_receiver": (
        "引継先（担当課または外部機関）を入力してください",
        "give whom it is handed to (a department or an outside body)",
    ),
    "desk.urgency": (
        "緊急度は {urgencies} のいずれかです",
        "the urgency must be one of {urgencies}",
    ),
    "desk.no_summary": (
        "相談の概要または聞き取った内容を入力してください",
        "fill in the summary or what was heard",
    ),
    "desk.no_handoff": ("引継ぎ票 {id} はありません", "there is no hand-off sheet {id}"),
    "desk.contact_too_long": (
        "氏名・電話番号は {limit} 文字までです",
        "the name and the phone number may have {limit} characters at most",
    ),
    # --- bookings and briefs (kb.desk.bookings, kb.desk.briefs) ---------------------------------
    "desk.booking_unreadable": (
        "予約日時「{value}」を読み取れません（例: 2026-06-01 09:30、2026/6/1 9:30、"
        "2026年6月1日 9時30分）",
        "cannot read the booking time '{value}' (write 2026-06-01 09:30, 2026/6/1 9:30 or "
        "2026年6月1日 9時30分)",
    ),
    "desk.booking_not_real": (
        "予約日時「{value}」は存在しない日付か時刻です",
        "the booking time '{value}' is not a real date or time",
    ),
    "desk.booking_no_topic": ("相談内容が空です", "the topic (相談内容) is empty"),
    "desk.too_many_bookings": (
        "予約が {limit} 件を超えています。1日分ずつに分けてください",
        "more than {limit} bookings: split the file into one file a day",
    ),
    "desk.too_many_booking_errors": (
        "{line} 行目までで {limit} 行を超えるエラーがありました。予約表の形式か列を確認してください"
        "（読み込みを中止しました）",
        "more than {limit} rows with errors by line {line}: check the file's format and columns "
        "(reading stopped)",
    ),
    "desk.booking_column": (
        "必須の列がありません（{name} または {aliases}）",
        "a required column is missing ({name} or {aliases})",
    ),
    "desk.invite_evidence": ("FAQ・過去の事例 {n}件", "{n} FAQ entries and past cases"),
    "desk.invite_procedures": ("手続き {n}件", "{n} procedures"),
    # --- kb records (kb.desk.commands) ---------------------------------------------------------
    "desk.none_listed": ("該当する相談記録はありません", "no consultation record matches"),
    "desk.listed": ("{n} 件", "{n} record(s)"),
    "desk.export_format": (
        "{path}: 形式は {formats} です（--format で指定できます）",
        "{path}: the format is one of {formats} (choose it with --format)",
    ),
    "desk.exported": (
        "{n} 件の相談記録を {path} に書き出しました",
        "wrote {n} consultation record(s) to {path}",
    ),
    # --- procedures (kb.ingest.procedures, kb.ingest.procedure_terms) ---------------------------
    "procedures.duplicate_column": (
        "列「{first}」と「{second}」がどちらも {field} を表しています",
        "columns '{first}' and '{second}' both mean '{field}'",
    ),
    "procedures.unknown_columns": (
        "手続き一覧に使えない列があります: {columns}（使える列: {known}）",
        "unknown column(s) for procedures: {columns} (known: {known})",
    ),
    "procedures.missing_column": (
        "手続き一覧の必須の列 {field} がありません",
        "missing required column '{field}' for procedures",
    ),
    "procedures.not_object": (
        "JSON のオブジェクト（{{...}}）ではありません",
        "expected a JSON object",
    ),
    "procedures.not_text": ("文字列にしてください", "expected text"),
    "procedures.not_text_or_list": (
        "文字列か文字列のリストにしてください",
        "expected text or a list of texts",
    ),
    "procedures.unknown_value": (
        "{what}「{value}」は使えません（使える値: {known}）",
        "{what} '{value}' is not known (use one of: {known})",
    ),
    "procedures.life_event": ("ライフイベント", "life event"),
    "procedures.condition": ("条件", "condition"),
    "procedures.deadline": (
        "期限「{value}」を読み取れません（例: 14日以内、3か月以内、速やかに、当日、なし）",
        "cannot read the deadline '{value}' (write 14日以内, 3か月以内, 速やかに, 当日 or なし)",
    ),
    # --- the desk's case ids (kb.ingest.pipeline, kb.store.records) ----------------------------
    "desk.reserved_case_id": (
        "事例番号「{id}」は取り込めません。「{prefix}」で始まる番号は窓口の相談記録から作られた"
        "事例の番号です（市の事例番号と重ならないよう予約されています）。市の番号を付けてください",
        "case id '{id}' cannot be ingested: ids starting with '{prefix}' belong to the cases "
        "the desk makes from consultation records (reserved so that they never meet the city's "
        "own case numbers); give the case the city's own number",
    ),
}
"""Key → (Japanese, English), each a :meth:`str.format` template."""
