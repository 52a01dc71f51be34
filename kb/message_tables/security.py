"""What the audit log's key problems say (:mod:`kb.security.audit_key`,
:mod:`kb.security.audit`), in :data:`kb.messages.MESSAGES`."""

from __future__ import annotations

SECURITY: dict[str, tuple[str, str]] = {
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
