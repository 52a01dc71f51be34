"""What the search, the staff API's feedback and bookings routes and the trainer say to their
users (:mod:`kb.search.query`, :mod:`kb.api.routes`, :mod:`kb.trainer`), in
:data:`kb.messages.MESSAGES`."""

from __future__ import annotations

SEARCH: dict[str, tuple[str, str]] = {
    "search.empty": ("検索する言葉を入力してください", "the query is empty"),
    "search.too_long": (
        "検索する言葉が {n:,} 文字あります（{limit:,} 文字まで）",
        "the query is {n} characters long; at most {limit} are allowed",
    ),
    "search.unknown_kind": (
        "種類「{name}」はありません（{known} のどれか）",
        "unknown kind '{name}' (one of {known})",
    ),
    "search.unknown_mode": (
        "検索方式「{name}」はありません（{known} のどれか）",
        "unknown mode '{name}' (one of {known})",
    ),
    "search.bad_k": (
        "1 つの欄に出す件数は 1〜{limit} 件です（指定: {k}）",
        "k is {k}; between 1 and {limit} results per pane",
    ),
    "search.bad_date": (
        "{name}: 「{value}」は日付として使えません。YYYY-MM-DD（例: 2024-04-01）の実在する日付を"
        "指定してください",
        "{name}: '{value}' is not a real date (YYYY-MM-DD, e.g. 2024-04-01)",
    ),
    "search.dates_reversed": (
        "期間の始め {date_from} が終わり {date_to} より後です。これでは何も見つかりません",
        "date_from {date_from} is after date_to {date_to}: nothing could match",
    ),
    "feedback.need_one": (
        "役に立った結果（helped_id）か正しい担当課（right_department）を指定してください",
        "give helped_id, right_department or both",
    ),
    "feedback.unknown_department": (
        "担当課「{name}」は課の一覧にありません",
        "unknown department '{name}'",
    ),
    "briefs.not_base64": (
        "{name}: ファイルの内容（content_base64）が base64 になっていません",
        "{name}: content_base64 is not base64",
    ),
    "briefs.too_large": (
        "{name}: {size:,} バイトあります（{limit:,} バイトまで）",
        "{name}: {size:,} bytes; at most {limit:,}",
    ),
    "trainer.bad_topic_id": (
        "「{id}」はトピックの ID ではありません（例: all-03、市民課-02）",
        "'{id}' is not a topic id (like 'all-03' or '市民課-02')",
    ),
    "trainer.no_topic": ("トピック「{id}」はありません", "no topic '{id}'"),
    "trainer.unknown_department": (
        "担当課「{name}」は担当課一覧にありません{hint}（一覧: {known}）",
        "no department '{name}' in the directory{hint} (known: {known})",
    ),
    "trainer.did_you_mean": ("。{names} のことですか", "; did you mean {names}?"),
    "trainer.not_positive": (
        "「{value}」は 1 以上の整数ではありません",
        "'{value}' is not a whole number of 1 or more",
    ),
    "trainer.manual_needs_department": (
        "マニュアルの下書きには担当課の指定が必要です（--department 担当課名）",
        "a manual draft needs a department (--department NAME)",
    ),
    "trainer.no_store": (
        "{path} に保存データがありません。先に kb ingest PATH... で取り込んでください",
        "no store at {path}: run `kb ingest PATH...` first",
    ),
    "trainer.topic_without_cases": (
        "トピック {id} には FAQ の下書きを作れる相談事例がありません",
        "topic {id} has no cases to draft an FAQ entry from",
    ),
}
