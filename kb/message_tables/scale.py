"""Running on Ray (:mod:`kb.scale`: ``--ray`` of build and serve): part of
:data:`kb.messages.MESSAGES`."""

from __future__ import annotations

SCALE: dict[str, tuple[str, str]] = {
    # --- kb.scale.cluster -------------------------------------------------------------
    "ray.no_ray": (
        "Ray が入っていません。`.venv/bin/pip install 'kb[ray]'`（または bash scripts/setup.sh）"
        "で入れてから --ray を使ってください。",
        "Ray is not installed: install it with `.venv/bin/pip install 'kb[ray]'` (or bash "
        "scripts/setup.sh), then use --ray.",
    ),
    "ray.no_cluster": (
        "Ray クラスタ {address} に接続できません: {problem}。`ray status --address {address}` "
        "でクラスタが動いているか確かめてください。",
        "cannot connect to the Ray cluster at {address}: {problem}. Check that it runs with "
        "`ray status --address {address}`.",
    ),
    "ray.no_local": (
        "Ray をこのマシンで起動できません: {problem}",
        "cannot start Ray on this machine: {problem}",
    ),
    "ray.no_haproxy": (
        "HAProxy が見つかりません（Ray Serve の受付に使います）。bash scripts/setup.sh で "
        "ray[serve] を入れ直すか、--ray-ingress proxy で Ray Serve 自身のプロキシを使って"
        "ください。",
        "HAProxy is not installed (Ray Serve's ingress): reinstall ray[serve] with bash "
        "scripts/setup.sh, or use Ray Serve's own proxy with --ray-ingress proxy.",
    ),
    # --- kb.scale.commands ------------------------------------------------------------
    "ray.ready": (
        "kb を Ray Serve で公開しました: {url}（レプリカ {replicas}）。Ctrl-C で停止します。",
        "kb is served on Ray Serve at {url} ({replicas} replica(s)); Ctrl-C stops it.",
    ),
    "ray.workers_and_ray": (
        "--workers と --ray は同時に使えません。Ray では --replicas でレプリカ数を指定します。",
        "--workers and --ray do not go together: on Ray, --replicas sets how many replicas run.",
    ),
    "ray.embedded": (
        "Ray で埋め込み: {missing} / {texts} 件（ワーカー {workers}、{seconds:.1f} 秒、"
        "{rate:.0f} 件/秒）",
        "embedded on Ray: {missing} of {texts} texts by {workers} worker(s) in {seconds:.1f} s "
        "({rate:.0f} texts/s)",
    ),
    # --- kb.scale.data ----------------------------------------------------------------
    "ray.worker_failed": (
        "Ray の埋め込みワーカーが失敗しました: {problem}。埋め込み済みの分はキャッシュに残り、"
        "次の kb build で続きから始まります。索引は切り替えていません。",
        "a Ray embedding worker failed: {problem}. What was embedded is in the cache and the "
        "next kb build resumes from there; the index was not switched.",
    ),
    "ray.other_model": (
        "Ray のワーカーが別のモデル {theirs} を読み込みました（このマシン: {ours}）。"
        "各ノードの KB_MODEL と models_dir をそろえてください。",
        "a Ray worker loaded another model, {theirs} (this machine: {ours}); give every node "
        "the same KB_MODEL and models_dir.",
    ),
    # --- kb.scale.serve ---------------------------------------------------------------
    "ray.audit_key_env": (
        "KB_AUDIT_KEY は Ray クラスタへは送りません"
        "（Ray はレプリカへの引数を暗号化せずに送ります）。"
        "監査キーを各ノードで同じパスに置き、KB_AUDIT_KEY_FILE で指定してください。",
        "KB_AUDIT_KEY is not sent to a Ray cluster (Ray ships replica arguments unencrypted): "
        "put the audit key in a file at the same path on every node and set KB_AUDIT_KEY_FILE.",
    ),
    "ray.deploy_failed": (
        "Ray Serve でレプリカを起動できませんでした: {problem}",
        "the Ray Serve replicas could not start: {problem}",
    ),
    "ray.bad_replicas": (
        "レプリカ数が不正です: --replicas {replicas}, --max-replicas {most}"
        "（1 以上、--max-replicas は --replicas 以上）",
        "bad replica counts: --replicas {replicas}, --max-replicas {most} (at least 1, and "
        "--max-replicas at least --replicas)",
    ),
}
"""Key → (Japanese, English), each a :meth:`str.format` template."""
