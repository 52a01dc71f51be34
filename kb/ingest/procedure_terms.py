"""The terms of procedures (手続き): fields, life events, conditions and deadlines.

The canonical life events and conditions live here, below both the reader that validates them
(:mod:`kb.ingest.procedures`) and :mod:`kb.desk.lifeevents` that recognises them in a query.
This module reads no files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from kb.ingest.schema import FieldSpec, header_key
from kb.messages import msg

LIFE_EVENTS: dict[str, tuple[str, ...]] = {
    "転入": ("市外からの引っ越し", "転入届"),
    "転出": ("市外への引っ越し", "転出届"),
    "転居": ("市内での引っ越し", "市内転居", "転居届"),
    "妊娠": ("妊娠・出産",),
    "出生": ("出産", "誕生", "出生届"),
    "入学": ("入園・入学", "就学"),
    "婚姻": ("結婚", "婚姻届"),
    "離婚": ("離婚届",),
    "就職": ("就職・転職",),
    "退職": ("離職", "失業"),
    "65歳到達": ("65歳",),
    "75歳到達": ("75歳",),
    "介護": ("介護が必要になったとき", "施設入所"),
    "死亡": ("おくやみ", "死亡届"),
}
"""The life events a procedure may belong to: canonical name → accepted other spellings."""

CONDITIONS: dict[str, tuple[str, ...]] = {
    "子どもあり": ("子供あり", "子あり", "子どもがいる"),
    "小中学生あり": ("小学生・中学生あり", "就学児あり"),
    "国保加入": ("国民健康保険加入", "国保"),
    "国民年金加入": ("国民年金", "国民年金第1号"),
    "65歳以上": ("65歳以上の方",),
    "75歳以上": ("75歳以上の方", "後期高齢者"),
    "要介護": ("要介護認定あり", "要支援・要介護"),
    "障害者手帳あり": ("障害あり",),
    "自動車あり": ("車あり", "自動車・バイクあり"),
    "犬あり": ("犬を飼っている",),
    "外国籍": ("外国人",),
    "持ち家": ("住宅所有",),
    "ひとり親": ("ひとり親家庭",),
    "世帯主": (),
}
"""The conditions a procedure may require: canonical name → accepted other spellings."""

SOON_DAYS = 14
"""The ordering weight of 「速やかに」: with the 14-day 届出 it usually goes with."""

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", ("ID", "番号", "手続き番号", "手続きID"), required=True),
    FieldSpec("name", ("手続き名", "手続き", "名称"), required=True),
    FieldSpec("department", ("担当課", "所管課", "窓口課"), required=True),
    FieldSpec(
        "life_events",
        ("life_event", "events", "ライフイベント", "出来事"),
        required=True,
        multi=True,
    ),
    FieldSpec("conditions", ("condition", "条件", "対象条件", "対象者"), multi=True),
    FieldSpec("deadline", ("期限", "届出期限", "手続き期限")),
    FieldSpec("documents", ("必要書類", "持ち物", "持参するもの"), multi=True),
    FieldSpec("fee", ("手数料", "費用")),
    FieldSpec("where", ("窓口", "場所", "受付場所")),
    FieldSpec("easy", ("easy_japanese", "やさしい日本語", "やさしい説明"), body=True),
    FieldSpec("note", ("説明", "備考", "内容"), body=True),
    FieldSpec("url", ("URL", "リンク")),
)
FIELD_SPECS = {spec.name: spec for spec in FIELDS}
"""Field name → its spec."""
_KEYS = {header_key(alias): spec.name for spec in FIELDS for alias in (spec.name, *spec.aliases)}


def _vocabulary(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """:func:`~kb.ingest.schema.header_key` of every spelling → its canonical name."""
    return {
        header_key(alias): name for name, aliases in table.items() for alias in (name, *aliases)
    }


_EVENT_KEYS = _vocabulary(LIFE_EVENTS)
_CONDITION_KEYS = _vocabulary(CONDITIONS)


def resolve_header(header: str) -> str | None:
    """The procedure field a column header stands for, or ``None`` if unknown."""
    return _KEYS.get(header_key(header))


def is_procedures_header(headers: Iterable[str]) -> bool:
    """Whether a file with these headers is a procedures file (it has a life-events column)."""
    return any(resolve_header(h) == "life_events" for h in headers)


def canonical_event(value: str) -> str | None:
    """The canonical life event ``value`` names (``"結婚"`` → ``"婚姻"``), or ``None``."""
    return _EVENT_KEYS.get(header_key(value))


def canonical_condition(value: str) -> str | None:
    """The canonical condition ``value`` names (``"車あり"`` → ``"自動車あり"``), or ``None``."""
    return _CONDITION_KEYS.get(header_key(value))


# --- deadlines ---------------------------------------------------------------------------------

# A number of at most four digits, read from its first digit: a run of digits is neither scanned
# from each of its digits (square time) nor given to int() whole (Python refuses 4,300 digits).
_SPAN_RE = re.compile(
    r"(?<!\d)(\d{1,4})\s*(日|週間|か月|ヵ月|ヶ月|カ月|ケ月|箇月|年)(?:以内|間|後|まで|前)"
)
_UNIT_DAYS = {"日": 1, "週間": 7, "年": 365}
_NOW_WORDS = ("当日", "直ちに", "すぐ", "事前", "前まで", "前に")
_SOON_WORDS = ("速やかに", "すみやかに", "早めに", "なるべく早く")
_NONE_WORDS = ("なし", "期限なし", "特になし", "随時", "いつでも", "-", "ー", "―")


def parse_deadline(value: str) -> int | None:
    """The deadline in days, for ordering a checklist.

    Accepts a span (``14日以内``, ``死亡を知った日から7日以内``, ``3か月以内``, ``2週間``; the
    first span written counts), 当日/直ちに/事前 (0), 速やかに (:data:`SOON_DAYS`) and
    なし/随時/empty (``None``: no deadline).

    Raises:
        ValueError: None of those forms.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or text.startswith(_NONE_WORDS):
        return None
    if m := _SPAN_RE.search(text):
        number, unit = int(m[1]), m[2]
        return number * _UNIT_DAYS.get(unit, 30)
    if any(word in text for word in _NOW_WORDS):
        return 0
    if any(word in text for word in _SOON_WORDS):
        return SOON_DAYS
    raise ValueError(msg("procedures.deadline", value=value))
