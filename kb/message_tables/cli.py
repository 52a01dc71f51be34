"""What the command line says of itself (:mod:`kb.cli`: errors, a full disk or a folder it
cannot write, the build's result) and of the trainer's commands, in
:data:`kb.messages.MESSAGES`."""

from __future__ import annotations

CLI: dict[str, tuple[str, str]] = {
    "cli.error": ("kb: エラー: {problem}", "kb: error: {problem}"),
    "cli.built": (
        "索引 {index} を作成しました: チャンク {chunks} 個（ベクトル化 {embedded}・キャッシュから "
        "{cached}）、密ベクトル索引 {dense}、{seconds} 秒（うちベクトル化 {embed_seconds} 秒）",
        "built index {index}: {chunks} chunks ({embedded} embedded, {cached} from cache), "
        "dense={dense}, {seconds} s (embedding {embed_seconds} s)",
    ),
    "cli.build_discarded": (
        "この索引の作成（ストア世代 {generation}）は破棄しました: その間に新しいデータから索引 "
        "{index} が作られ、そちらが引き続き使われます（この作成分をすべて含みます）",
        "this build (store generation {generation}) was discarded: index {index} was built "
        "meanwhile from newer data and keeps serving; it holds everything this build had",
    ),
    "cli.rebuild_for_model": (
        "索引はモデル {built} で作られていますが、今使うモデルは {model} です（設定が変わったか、"
        "適応したモデルがなくなりました）。ストアから索引を作り直してから起動します",
        "the index was built with model {built}, but kb now runs {model} (the setting changed, "
        "or the adapted model is gone): rebuilding it from the store before serving",
    ),
    "cli.rebuild_busy": (
        "索引を作り直せませんでした（{problem}）。このまま起動します。作り直すまで /readyz は"
        "理由を示して 503 を返します。書き込みが終わってから kb build を実行してください",
        "the index could not be rebuilt ({problem}); serving anyway: /readyz answers 503 with "
        "the reason until it is. Run kb build once the other writer is done",
    ),
    "cli.interrupted": ("kb: 中断しました", "kb: interrupted"),
    "cli.unwritable": (
        "kb: エラー: {path} に書き込めないか、開けません（{problem}）。保存済みの内容は失われて"
        "いません。kb を動かすユーザーがそこに書けること（権限）と、読み取り専用でマウントされて"
        "いないことを確かめてから、同じコマンドをもう一度実行してください",
        "kb: error: {path} cannot be written or opened ({problem}). Nothing already stored was "
        "lost: check that the user running kb may write there (permissions) and that it is not "
        "mounted read-only, then run the same command again",
    ),
    "cli.damaged_database": (
        "kb: エラー: {data_dir} のデータベースが壊れています（{problem}）。ディスクの障害か、"
        "kb の外での書き換えです。kb backup の控えから kb restore で戻してください",
        "kb: error: a database in {data_dir} is damaged ({problem}): a disk fault or a change "
        "made outside kb; restore it from a backup with kb restore",
    ),
    "cli.not_a_folder": (
        "kb: エラー: フォルダーが必要な場所にファイルがあります: {path}（{problem}）。保存済みの"
        "内容は失われていません。データフォルダー（--data-dir または KB_DATA_DIR）には、"
        "フォルダーか、まだ無い場所を指定してください",
        "kb: error: a file stands where a folder is needed: {path} ({problem}). Nothing already "
        "stored was lost: give the data folder (--data-dir or KB_DATA_DIR) as a folder or as a "
        "path that does not exist yet",
    ),
    "cli.disk_full": (
        "kb: エラー: ディスクの空き容量が足りません（{problem}）。"
        "保存済みの内容は失われていません。{data_dir} のある場所を"
        "空けてから、同じコマンドをもう一度実行してください",
        "kb: error: the disk is full ({problem}). Nothing already stored was lost: free space "
        "where {data_dir} lies and run the same command again",
    ),
    "cli.bad_settings": (
        "kb: エラー: 設定が正しくありません: {problem}",
        "kb: error: invalid settings: {problem}",
    ),
    # --- the trainer's commands (kb.trainer.commands) ---------------------------------------
    "trainer.published": (
        "{doc_id} を公開しました（索引 {index}、ベクトル化 {embedded} 件・キャッシュ {cached} 件、"
        "{seconds:.2f} 秒）。動いているサーバーは次の検索から反映します",
        "published {doc_id} in index {index} ({embedded} chunk(s) embedded, {cached} from "
        "cache) in {seconds:.2f} s; a running server serves it from its next query",
    ),
    "trainer.withdrawn": (
        "{doc_id} を公開停止しました（索引 {index}、ベクトル化 {embedded} 件・キャッシュ "
        "{cached} 件、{seconds:.2f} 秒）。動いているサーバーは次の検索から反映します",
        "withdrawn {doc_id} in index {index} ({embedded} chunk(s) embedded, {cached} from "
        "cache) in {seconds:.2f} s; a running server serves it from its next query",
    ),
}
