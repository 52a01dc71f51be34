"""What ``kb backup`` and ``kb restore`` say (:mod:`kb.ops`), in :data:`kb.messages.MESSAGES`."""

from __future__ import annotations

OPS: dict[str, tuple[str, str]] = {
    "ready.failed": (
        "検索サービスを起動できませんでした。原因はサーバーのログにあります",
        "the search service could not start; the server's log says why",
    ),
    # --- the serving index (kb.index.folder) --------------------------------------------
    "index.none": (
        "{path} に索引がありません。先に kb ingest PATH...（または kb build）で作ってください",
        "no index in {path}: run `kb ingest PATH...` (or `kb build`) first",
    ),
    "index.pointer_dangling": (
        "{pointer} が指す索引「{name}」がありません。kb build で作り直してください",
        "{pointer} names {name!r}, which does not exist: run `kb build`",
    ),
    # --- backup ---------------------------------------------------------------------------
    "backup.no_data": (
        "{data_dir} にデータフォルダーがありません（--data-dir / KB_DATA_DIR を確認してください）",
        "there is no data folder at {data_dir} (check --data-dir / KB_DATA_DIR)",
    ),
    "restore.undeleted": (
        "注意: このバックアップの後に削除した文書 {count} 件が戻りました。削除し直してください: "
        "kb delete {ids}",
        "note: {count} document(s) deleted after this backup was taken are stored again; "
        "delete them again: kb delete {ids}",
    ),
    "backup.dest_unwritable": (
        "{dest} にバックアップを作れません（{problem}）。書き込めるフォルダーを指定してください",
        "cannot write a backup at {dest} ({problem}): give a folder that can be written",
    ),
    "backup.dest_not_empty": (
        "{dest} は空ではありません。バックアップは新しいフォルダーに作ります"
        "（例: kb backup /backup/kb-$(date +%F)）",
        "{dest} exists and is not empty: a backup goes into a new folder "
        "(e.g. kb backup /backup/kb-$(date +%F))",
    ),
    "backup.dest_inside": (
        "{dest} はデータフォルダー {data_dir} の中です。データフォルダーの外を指定してください",
        "{dest} is inside the data folder {data_dir}: give a folder outside it",
    ),
    "backup.copy_failed": (
        "{path} をコピーできません: {error}",
        "cannot copy {path}: {error}",
    ),
    "backup.index_moving": (
        "索引 {root} が{tries}回続けてコピー中に入れ替わりました。取り込みが終わってから、"
        "もう一度実行してください",
        "the serving index in {root} was replaced {tries} times while it was copied; run the "
        "backup again when the ingests have finished",
    ),
    "backup.model_unknown": (
        "モデル {model} の内容を確認できません（{error}）。"
        "バックアップにはモデル名だけを記録します",
        "cannot tell what model {model} holds ({error}); the backup records its name only",
    ),
    "backup.done": (
        "バックアップを作成しました: {dest}（データベース {databases} 個、ファイル {files} 個、"
        "{size}、{seconds:.1f} 秒）",
        "backup written to {dest} ({databases} database(s), {files} file(s), {size}, "
        "{seconds:.1f} s)",
    ),
    "backup.index": (
        "  索引: {name}（ストア世代 {generation} から作成）",
        "  index: {name} (built from store generation {generation})",
    ),
    "backup.no_index": ("  索引: なし", "  index: none"),
    "backup.store": ("  ストア世代: {generation}", "  store generation: {generation}"),
    "backup.models": (
        "  モデル: {model} を含めました（{size}）",
        "  models: {model} included ({size})",
    ),
    "backup.no_models": (
        "  モデル: 含めていません（{model}、インストール済みのパッケージから作り直せます。"
        "含めるには --with-models）",
        "  models: not included ({model}, rebuilt from the installed packages; "
        "--with-models includes them)",
    ),
    "backup.audit": (
        "  監査ログ: {events} 件、アンカーは事象 {anchored} まで。"
        "監査ログの鍵（ID {key_id}）は含めていません。鍵はバックアップとは別に保管してください",
        "  audit log: {events} event(s), anchor up to event {anchored}. The audit key (id "
        "{key_id}) is not included: keep it apart from the backups",
    ),
    "backup.skipped": (
        "  含めなかったもの: {path}",
        "  left out: {path}",
    ),
    "backup.verify_hint": (
        "  確認: cd {dest} && sha256sum -c SHA256SUMS",
        "  check: cd {dest} && sha256sum -c SHA256SUMS",
    ),
    # --- restore --------------------------------------------------------------------------
    "restore.no_manifest": (
        "{src} は kb のバックアップではありません（manifest.json がありません）",
        "{src} is not a kb backup (it has no manifest.json)",
    ),
    "restore.bad_manifest": (
        "{path} が読めないか壊れています（{error}）。何も書き込んでいません",
        "{path} is unreadable or damaged ({error}); nothing was written",
    ),
    "restore.newer_format": (
        "{path} は新しい kb で作られたバックアップです（形式 {format}）。"
        "その版の kb で復元してください",
        "{path} was made by a newer kb (format {format}); restore it with that kb",
    ),
    "restore.corrupt": (
        "バックアップが壊れています。何も書き込んでいません:\n{problems}",
        "the backup is damaged; nothing was written:\n{problems}",
    ),
    "restore.missing_file": ("  {path}: ありません", "  {path}: missing"),
    "restore.wrong_size": (
        "  {path}: 大きさが {size} バイトです（記録は {expected} バイト）",
        "  {path}: {size} bytes, the manifest says {expected}",
    ),
    "restore.wrong_sum": (
        "  {path}: SHA-256 がマニフェストと一致しません",
        "  {path}: its SHA-256 is not the one in the manifest",
    ),
    "restore.model_mismatch": (
        "このバックアップはモデル {backup} で作られましたが、設定されたモデルは {configured} "
        "です。索引とベクトルが合わないため復元しません。同じモデルを設定するか、"
        "--allow-model-change を付けて復元し、そのあと kb build で索引を作り直してください",
        "this backup was made with the model {backup}, but the configured model is "
        "{configured}: its index and vectors would not match, so nothing was restored. "
        "Configure the same model, or restore with --allow-model-change and run kb build "
        "afterwards",
    ),
    "restore.key_missing": (
        "監査ログの鍵（ID {key_id}）が使えません: {error}。バックアップとは別に保管した鍵を "
        "{path} に置くか（chmod 600）、KB_AUDIT_KEY_FILE / KB_AUDIT_KEY を設定してから、"
        "もう一度実行してください。何も書き込んでいません",
        "the audit key (id {key_id}) is not usable: {error}. Put the key kept apart from the "
        "backups at {path} (chmod 600), or set KB_AUDIT_KEY_FILE / KB_AUDIT_KEY, and run the "
        "restore again; nothing was written",
    ),
    "restore.key_mismatch": (
        "{source} の監査ログの鍵（ID {found}）は、このバックアップの監査ログの鍵（ID {key_id}）"
        "ではありません。正しい鍵を設定してください。何も書き込んでいません",
        "the audit key from {source} (id {found}) is not the key the backed-up audit log was "
        "signed with (id {key_id}); configure the right key. Nothing was written",
    ),
    "restore.not_empty": (
        "{target} は空ではありません。今のデータを置き換えるには --force を付けてください"
        "（今のデータは {target}.before-restore-… に残します）",
        "{target} is not empty: add --force to replace the data there (it is kept as "
        "{target}.before-restore-…)",
    ),
    "restore.anchor_exists": (
        "監査ログのアンカー {anchor} がすでにあります。"
        "別のデータフォルダ（動いている kb）のものなら、"
        "KB_AUDIT_ANCHOR を {target} 用の新しいパスにして復元してください（訓練の復元など）。"
        "失ったこのデータフォルダのものなら --force を付けてください"
        "（今のアンカーは横に残します）。何も書き込んでいません",
        "the audit anchor {anchor} exists: if it is another data folder's (a running kb), set "
        "KB_AUDIT_ANCHOR to a new path for {target} (a restore drill); if it is this lost data "
        "folder's, add --force (the anchor is kept beside it); nothing was written",
    ),
    "restore.in_use": (
        "{path} を別のプロセスが開いています（kb serve など）。サービスを止めてから、"
        "もう一度実行してください。何も書き込んでいません",
        "another process has {path} open (kb serve, say): stop the service and run the "
        "restore again; nothing was written",
    ),
    "restore.target_is_source": (
        "{src} は復元先 {target} の中にあります。別の場所から復元してください",
        "{src} lies inside the restore target {target}: restore from another place",
    ),
    "restore.target_in_source": (
        "復元先 {target} がバックアップ {src} の中にあります。バックアップの外の場所を指定して"
        "ください（バックアップは書き換えません）",
        "the restore target {target} lies inside the backup {src}: give a place outside it "
        "(a backup is never written to)",
    ),
    "restore.done": (
        "{target} に復元しました（{created_at} のバックアップ、{files} ファイル、{size}、"
        "{seconds:.1f} 秒）",
        "restored {target} from the backup of {created_at} ({files} file(s), {size}, "
        "{seconds:.1f} s)",
    ),
    "restore.previous": (
        "  以前のデータは {path} に残しました。復元を確認したら削除してください"
        "（個人情報を含みます）",
        "  the previous data is kept in {path}: delete it once the restore is checked "
        "(it holds personal data)",
    ),
    "restore.previous_anchor": (
        "  以前の監査アンカーは {path} に残しました（証跡として保管してください）",
        "  the previous audit anchor is kept as {path} (keep it as evidence)",
    ),
    "restore.build_hint": (
        "  索引はストア世代 {index} から作られ、ストアは世代 {store} です。"
        "kb build で残りも検索できるようにしてください",
        "  the index was built from store generation {index}, the store is at generation "
        "{store}: run kb build to make the rest searchable",
    ),
    "restore.no_index": (
        "  索引がありません: kb build で作ってください",
        "  no index: run kb build",
    ),
    "restore.models": (
        "  モデル: {how}",
        "  models: {how}",
    ),
    "restore.models_kept": (
        "以前のデータフォルダーのモデルを引き継ぎました（作り直しません）",
        "kept the previous data folder's model cache (no rebuild)",
    ),
    "restore.models_restored": ("バックアップから復元しました", "restored from the backup"),
    "restore.models_external": (
        "モデルの置き場所 {path} はそのまま使います",
        "the model cache {path} is used as it is",
    ),
    "restore.models_missing": (
        "バックアップに含まれていないため、最初の起動で作ります（数分）",
        "not in the backup: built at the first start (a few minutes)",
    ),
    "restore.model_changed": (
        "  モデルが変わりました（{backup} → {configured}）: kb build で索引を作り直してください",
        "  the model changed ({backup} → {configured}): run kb build to rebuild the index",
    ),
    "restore.audit_ok": (
        "  監査ログ: {events} 件、改ざんなし（アンカーは事象 {anchored} まで）",
        "  audit log: {events} event(s), intact (anchor up to event {anchored})",
    ),
    "restore.audit_problems": (
        "  監査ログ: 問題があります（バックアップ時点の状態です）:\n{problems}",
        "  audit log: problems (as they were when the backup was made):\n{problems}",
    ),
    "restore.audit_not_recorded": (
        "  監査ログに復元を記録できませんでした: {error}",
        "  the restore could not be recorded in the audit log: {error}",
    ),
    "restore.version": (
        "  このバックアップは kb {version} で作られました（実行中は {running}）",
        "  this backup was made by kb {version} (running {running})",
    ),
}
