"""What the audit log's key problems say (:mod:`kb.security.audit_key`,
:mod:`kb.security.audit`), in :data:`kb.messages.MESSAGES`."""

from __future__ import annotations

SECURITY: dict[str, tuple[str, str]] = {
    # --- API keys (kb.security.keys, kb.security.roles) ----------------------------------
    "keys.bad_name": (
        "キーの名前「{name}」は使えません。英数字と . _ @ + - の 1〜64 文字にしてください"
        "（空白は不可）",
        "invalid key name {name!r}: use 1-64 letters, digits or . _ @ + - (no spaces)",
    ),
    "keys.bad_expiry": (
        "有効期限は 1〜3650 日で指定してください（指定: {days:g}）",
        "expiry must be 1 to 3650 days, not {days:g}",
    ),
    "keys.name_taken": (
        "「{name}」という名前の有効なキーがすでにあります。先に失効させるか（kb keys revoke "
        "{name}）、別の名前にしてください",
        "an active key named {name!r} already exists; revoke it first (kb keys revoke {name}) "
        "or choose another name",
    ),
    "keys.name_like": (
        "「{name}」は有効なキー「{active}」と同じ名前に読めます（全角・半角、大文字・小文字の"
        "違いだけ）。別の名前にしてください",
        "{name!r} reads as the active key {active!r} (only width or case differ); choose "
        "another name",
    ),
    "keys.no_free_id": (
        "使われていないキー ID を選べませんでした。もう一度実行してください",
        "could not draw an unused key id; try again",
    ),
    "keys.no_such_key": (
        "「{name}」という名前の有効なキーはありません（一覧: kb keys list）",
        "no active key named {name!r} (see kb keys list)",
    ),
    "keys.bad_role": (
        "役割「{role}」はありません。次のどれかにしてください: {roles}",
        "unknown role {role!r}; use one of: {roles}",
    ),
    "audit.damaged_table": (
        "監査ログの表の形が壊れていて、記録を読めません（{problem}）。kb の外で表が変えられて"
        "います。バックアップの監査ログと照らし合わせてください",
        "the audit log's table is damaged and its events cannot be read ({problem}): it was "
        "changed outside kb; compare it with a backup's copy",
    ),
    "audit.key_absent": (
        "{path}: 監査ログの鍵ファイルがありません",
        "{path}: the audit key file does not exist",
    ),
    "audit.key_unreadable": (
        "{path}: 監査ログの鍵ファイルを読めません（{problem}）",
        "{path}: cannot read the audit key file: {problem}",
    ),
    "audit.key_not_file": (
        "{path}: 監査ログの鍵が通常のファイルではありません",
        "{path}: the audit key file is not a regular file",
    ),
    "audit.key_open_mode": (
        "{path}: 監査ログの鍵ファイルを他のユーザー（グループ・その他）が読み書きできます"
        "（モード {mode}）。kb は使いません。chmod 600 {path} で本人だけのものにしてください",
        "{path}: the audit key file can be read or changed by group or others (mode {mode}); "
        "kb refuses to use it. Make it private: chmod 600 {path}",
    ),
    "audit.key_missing_signed": (
        "{path}: 監査ログの鍵ファイルがありませんが、{log} の {keyed} 件の記録は鍵（ID {key_id}）"
        "で署名されています。鍵ファイルをバックアップから戻すか、KB_AUDIT_KEY_FILE / "
        "KB_AUDIT_KEY を設定してください。鍵のある監査ログに kb が新しい鍵を作ることはありません",
        "{path}: the audit key file is missing, but {keyed} event(s) of {log} were signed with "
        "a key (id {key_id}): restore the key file from its backup or set KB_AUDIT_KEY_FILE / "
        "KB_AUDIT_KEY; kb does not make a new key for a log that has one",
    ),
}
