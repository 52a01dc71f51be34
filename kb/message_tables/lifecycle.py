"""The FAQ lifecycle, delete, sync and prune: part of :data:`kb.messages.MESSAGES`.

The trainer's FAQ steps (:mod:`kb.trainer.lifecycle`), removals (:mod:`kb.index.remove`),
``kb ingest --sync`` (:mod:`kb.index.sync`), ``kb prune`` (:mod:`kb.index.retention`) and what
``kb delete`` / ``kb prune`` / ``kb ingest --sync --dry-run`` print (:mod:`kb.cli_lifecycle`).
"""

from __future__ import annotations

LIFECYCLE: dict[str, tuple[str, str]] = {
    # --- the FAQ lifecycle (kb.trainer.lifecycle) -----------------------------------------------
    "faq.approver_unknown": (
        "承認した人が分かりません（API キーの名前、またはコマンドの --as で指定します）",
        "who approves is not known (an API key's name, or --as on the command line)",
    ),
    "faq.approved_twice": (
        "{by} さんは FAQ候補 {id} をすでに承認しています（承認{n}）。別の方の承認が必要です",
        "{by} approved FAQ candidate {id} already (approval {n}); another person must approve",
    ),
    "faq.drafter_publishes": (
        "{by} さんは FAQ候補 {id} を作成または最後に編集したため、公開の承認はできません。"
        "別の方が承認してください（必要な承認：{needed}人）",
        "{by} drafted or last edited FAQ candidate {id} and cannot give the approval that "
        "publishes it; another person must approve ({needed} approvals needed)",
    ),
    "faq.republish_needs_approval": (
        "承認が{needed}人必要な設定のため、FAQ {id} を1人の操作で再公開することはできません。"
        "「改訂」で候補を作り、{needed}人の承認で公開してください",
        "FAQ {id} cannot be republished by one person while {needed} approvals are required: "
        "revise it into a candidate and have it approved",
    ),
    "faq.no_candidate": (
        "FAQ候補 {id} はありません（あるもの: {known}）",
        "no FAQ candidate {id} (known: {known})",
    ),
    "faq.none": ("なし", "none"),
    "faq.not_draft": (
        "FAQ候補 {id} は{state}のため変更できません",
        "FAQ candidate {id} is already {state} and cannot be changed",
    ),
    "faq.state_approved": ("承認済み", "approved"),
    "faq.state_rejected": ("却下済み", "rejected"),
    "faq.reason_missing": ("却下の理由を入力してください", "give the reason for the rejection"),
    "faq.empty": ("{field}を空にはできません", "{field} cannot be empty"),
    "faq.too_long": (
        "{field}が長すぎます（{n:,} 文字、上限 {limit:,} 文字）",
        "{field} is too long ({n:,} characters, at most {limit:,})",
    ),
    "faq.bad_url": (
        "URL は http:// か https:// で始まるアドレスにしてください（{value}）",
        "the URL must start with http:// or https:// ({value})",
    ),
    "faq.unknown_department": (
        "担当課「{name}」は担当課一覧にありません。一覧にある名前か別名を書いてください"
        "（複数なら「、」で区切ります）",
        "department '{name}' is not in the department directory: write a name or alias it "
        "has (several separated by 、)",
    ),
    "faq.bad_date": (
        "{field}の日付が読めません：{value}（2025-03-31、2025/3/31、令和7年3月31日、"
        "R7.3.31 の形で書いてください）",
        "{field}: cannot read the date {value} (write 2025-03-31, 2025/3/31, 令和7年3月31日 or "
        "R7.3.31)",
    ),
    "faq.placeholders": (
        "{fields}に伏せ字（{marks}）があります。特定の方についての記述は公開できません。"
        "一般的な説明に書き換えてから承認してください",
        "{fields} hold masked spans ({marks}): a sentence about one person cannot be "
        "published; rewrite it in general terms, then approve",
    ),
    "faq.no_faq": ("FAQ {id} はありません", "no FAQ entry {id}"),
    "faq.target_gone": (
        "FAQ候補 {id} が改訂する FAQ {target} は削除されています",
        "FAQ {target}, which candidate {id} revises, has been removed",
    ),
    "faq.already_withdrawn": ("FAQ {id} はすでに公開停止中です", "FAQ {id} is withdrawn already"),
    "faq.already_public": ("FAQ {id} はすでに公開中です", "FAQ {id} is published already"),
    "faq.changing_too_fast": (
        "公開停止・再公開は 1 分間に {per_minute} 件までです。"
        "少し待ってからもう一度実行してください",
        "at most {per_minute} withdrawals or republications a minute; wait a moment and retry",
    ),
    "faq.personal_data": (
        "{fields}に個人情報と思われる箇所（{marks}にあたるもの）があります。公開する FAQ には"
        "書けません。一般的な説明に書き換えてから承認してください",
        "{fields} hold what looks like personal data ({marks}): a published FAQ cannot hold "
        "it; rewrite it in general terms, then approve",
    ),
    "faq.field_question": ("質問", "the question"),
    "faq.field_all": ("質問・回答などをつなげた文", "the fields read together"),
    "faq.field_answer": ("回答", "the answer"),
    "faq.field_department": ("担当課", "the department"),
    "faq.field_category": ("分類", "the category"),
    "faq.field_url": ("URL", "the URL"),
    "faq.field_owner": ("所管課", "the owner department"),
    "faq.field_updated": ("更新日", "the date updated"),
    "faq.field_expires": ("公開期限", "the end of publication"),
    "faq.field_reason": ("却下の理由", "the reason for the rejection"),
    # --- removals (kb.index.remove) -------------------------------------------------------------
    "delete.not_found": (
        "次の文書は登録されていません（何も削除していません）: {ids}",
        "no such document (nothing was deleted): {ids}",
    ),
    "delete.bad_id": (
        "「{id}」は文書IDの形ではありません。種類:ID の形で指定してください（例: faq:F0001, "
        "case:R6-001）。種類は {kinds}",
        "{id!r} is not a document id: write KIND:ID (faq:F0001, case:R6-001); KIND is one "
        "of {kinds}",
    ),
    "delete.no_ids": (
        "削除する文書IDを指定してください",
        "give the ids of the documents to delete",
    ),
    # --- kb ingest --sync (kb.index.sync) --------------------------------------------------------
    "sync.incomplete": (
        "読めなかったファイルまたは行が {n} 件あるため、--sync による削除は行いませんでした"
        "（読めた行は登録済み）。ファイルを直して、もう一度実行してください",
        "{n} file(s) or row(s) could not be read, so --sync removed nothing (the good rows "
        "were stored); fix the file and run it again",
    ),
    "sync.mass": (
        "{kind} の登録 {stored} 件のうち {n} 件が削除されることになるため、中止しました。"
        "一部だけを書き出したファイルではありませんか。--dry-run で確認し、意図どおりなら "
        "--force を付けて実行してください",
        "--sync would remove {n} of the {stored} stored {kind} document(s), so it removed "
        "nothing: is the file a partial export? Check with --dry-run, and add --force if it is "
        "meant",
    ),
    "sync.nothing_read": (
        "ファイルから文書が1件も読めなかったため、--sync の対象となる種類がありません",
        "no document was read from the files, so --sync has no kind to make them the truth for",
    ),
    "sync.plan_added": ("  追加: {id}", "  added: {id}"),
    "sync.plan_updated": ("  変更: {id}", "  updated: {id}"),
    "sync.plan_removed": ("  削除: {id}", "  removed: {id}"),
    # --- kb prune (kb.index.retention) ------------------------------------------------------------
    "prune.age_too_long": (
        "「{value}」は長すぎます。{limit:,} 日までで指定してください",
        "{value!r} is too long an age: at most {limit:,} days",
    ),
    "prune.bad_age": (
        "「{value}」は期間として読めません。日数で指定してください（例: 90d、12w、90日）",
        "{value!r} is not an age: give days or weeks (90d, 12w)",
    ),
    # --- what kb delete / kb prune / kb ingest --sync print (kb.cli_lifecycle) -------------------
    "delete.deleted": ("{n} 件の文書を削除しました: {ids}", "deleted {n} document(s): {ids}"),
    "delete.purged": (
        "  埋め込みキャッシュ {cache} 件、原文 {raw} 件、担当課名簿 {dirs} 件、"
        "古い索引 {builds} 個を削除",
        "  removed {cache} cached vector(s), {raw} raw text(s), {dirs} directory entr(y/ies), "
        "{builds} old index build(s)",
    ),
    "delete.erased": (
        "  消去: 検索ログ {q} 件、フィードバック {f} 件、FAQ下書き {d} 件を削除しました",
        "  erased {q} query-log row(s), {f} feedback row(s), {d} FAQ draft(s)",
    ),
    "delete.audit_mentions": (
        "  注意: 監査ログの検索語 {n} 件にこの文言が含まれます。監査ログは改ざん防止のため"
        "削除できません（記録は伏字処理済みの検索語です）",
        "  note: {n} audit event(s) record a search that quotes it; the audit log is "
        "append-only and is never changed (its queries are masked)",
    ),
    "delete.retired_models": (
        "  この文書を学習した調整済みモデル {models} を削除しました。次の調整までは基本モデルで"
        "検索します",
        "  deleted the adapted model(s) {models}, which learnt from it; the base model serves "
        "until the next adaptation",
    ),
    "delete.built": (
        "  索引 {index} を作成しました（{chunks} チャンク、新たな埋め込み {embedded} 件）",
        "  built index {index}: {chunks} chunks ({embedded} embedded)",
    ),
    "delete.wal_busy": (
        "  注意: 使用中のデータベースがあり、WAL（書き込みログ）の切り詰めが完了しませんでした。"
        "古いページは次のチェックポイントで消えます",
        "  note: a database was in use and its write-ahead log could not be truncated yet; "
        "it is at the next checkpoint",
    ),
    "sync.dry_run": (
        "試行（--dry-run）: 何も書き込んでいません。追加 {a} 件、変更 {u} 件、変更なし {s} 件",
        "dry run: nothing was written; {a} to add, {u} to change, {s} unchanged",
    ),
    "sync.kinds": (
        "--sync の対象: {kinds}。このファイルにない {n} 件を削除{will}",
        "--sync for {kinds}: {n} stored document(s) missing from the files {will}",
    ),
    "sync.will_remove": ("します", "would be removed"),
    "sync.would_have": ("するところでした", "would have been removed"),
    "sync.removed": ("しました", "were removed"),
    "sync.refused": ("削除しません: {why}", "nothing removed: {why}"),
    "prune.done": (
        "{when} より前のものを{verb}: 検索ログ {q} 件、フィードバック {f} 件、古い索引 {b} 個",
        "{verb} what is older than {when}: {q} query-log row(s), {f} feedback row(s), "
        "{b} old index build(s)",
    ),
    "prune.verb": ("削除しました", "removed"),
    "prune.verb_dry": ("削除します（--dry-run: まだ何も削除していません）", "would remove"),
    "prune.records": (
        "{when} より前に完了した相談記録 {r} 件と引継ぎ票 {h} 件を{verb}"
        "（記録から作った事例は検索に残ります。消去は kb delete case:desk-…）",
        "{verb} {r} consultation record(s) closed before {when} and {h} hand-off sheet(s) "
        "(the cases they became stay searchable; erase one with kb delete case:desk-...)",
    ),
    "prune.records_kept": (
        "相談記録と引継ぎ票は削除しません（公文書です。保存期間を過ぎたものは --records で"
        "削除します）",
        "consultation records and hand-off sheets are kept (official records; add --records "
        "to remove those past their retention period)",
    ),
    "delete.records": (
        "  相談記録 {records} 件と、その引継ぎ票 {handoffs} 件を削除しました",
        "  removed {records} consultation record(s) and their {handoffs} hand-off sheet(s)",
    ),
    "prune.audit_kept": (
        "監査ログは削除しません（誰が何を検索・閲覧・変更・削除したかの記録です）",
        "the audit log is never pruned: it is the record of who searched, opened, changed "
        "or deleted what",
    ),
}
"""Key → (Japanese, English), each a :meth:`str.format` template."""
