"""Life events (ライフイベント): recognise one in what the citizen said, and its checklist.

「父が亡くなった」 is a death in the family, 「来月引っ越してくる 子ども2人」 a move into the city
by a household with children. Recognition reads the query's MeCab lemmas (so 「ひっこしてきた」
and 「引っ越して来た」 are the same words) against a trigger vocabulary per event: a trigger is a
set of terms that must all occur (``引っ越す`` *and* ``来る``: moving *in*); a term is a lemma,
a word of two or more characters inside the text, a named group (``@family``: 父, 母, 夫...)
or a ``re:`` pattern on the text (「ちちがなくなった」, which MeCab cannot split into words).
Weak triggers (「名字が変わった」) only offer their event when no strong one fired.

The checklist lists the procedures (:class:`~kb.types.Procedure`) of the recognised events that
apply to the ticked conditions (a procedure applies when all its conditions are ticked), grouped
by department, the group with the soonest deadline first and each group by deadline.

The embedding model is not used here. The vocabulary alone offers the right checklist for
45 of the 46 life-event queries of ``eval/lifeevents`` and none for its 14 negatives
(``eval/lifeevents.py``); an embedding fallback was not built or measured, because what the
vocabulary misses is rare and a nearest-event vote risks offering a checklist for questions
that only mention a procedure (「住民票の写しがほしい」). Those queries were written together
with the vocabulary, so the figure is optimistic for phrasings they do not cover.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kb.ingest.procedure_terms import CONDITIONS, LIFE_EVENTS
from kb.text.mecab import MeCabTokenizer
from kb.types import Department, Procedure

if TYPE_CHECKING:
    from kb.search.searcher import Searcher


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


GROUPS: dict[str, frozenset[str]] = {
    "family": _words(
        "父 母 親 両親 夫 妻 旦那 主人 嫁 家内 祖父 祖母 婆 爺 息子 娘 兄 弟 姉 妹 義父 義母 "
        "家族 親族 子供 子 伯父 叔父 伯母 叔母 父親 母親"
    ),
    "leave": _words("止める 辞める 退職 失業 離職 退社"),
    "outside": _words("県外 市外 他県 他市 遠方 海外 実家 東京 大阪 外国 出る"),
}
"""Named groups of terms a trigger may use as ``@name``."""

STRONG, WEAK = 1.0, 0.5

TRIGGERS: dict[str, tuple[tuple[str, float], ...]] = {
    "死亡": (
        ("亡くなる", STRONG), ("死亡", STRONG), ("死ぬ", STRONG), ("他界", STRONG),
        ("逝去", STRONG), ("死去", STRONG), ("永眠", STRONG), ("葬儀", STRONG), ("葬式", STRONG),
        ("火葬", STRONG), ("悔やみ", STRONG), ("おくやみ", STRONG), ("遺族", STRONG),
        ("相続", WEAK),
        ("無くなる+@family", STRONG), ("re:@kin[がは]?なくな", STRONG), ("息+引き取る", STRONG),
    ),
    "転入": (
        ("転入", STRONG), ("引っ越す+来る", STRONG), ("越す+来る", STRONG), ("移り住む", STRONG),
        ("移住", STRONG), ("転勤+来る", STRONG), ("引っ越す+桜川", STRONG), ("Uターン", STRONG),
    ),
    "転出": (
        ("転出", STRONG), ("引っ越す+@outside", STRONG), ("引っ越す+@place", STRONG),
        ("転勤+@outside", STRONG), ("引っ越す", WEAK),
    ),
    "転居": (
        ("転居", STRONG), ("市内+引っ越す", STRONG), ("近く+引っ越す", STRONG),
        ("引っ越す", WEAK), ("住所+変わる", WEAK),
    ),
    "妊娠": (
        ("妊娠", STRONG), ("母子+手帳", STRONG), ("身籠る", STRONG), ("出産+予定", STRONG),
        ("赤ちゃん+出来る", STRONG), ("つわり", STRONG), ("妊婦", STRONG),
    ),
    "出生": (
        ("出生", STRONG), ("生まれる", STRONG), ("産まれる", STRONG), ("誕生", STRONG),
        ("出産", STRONG), ("新生児", STRONG), ("赤ちゃん", WEAK),
    ),
    "入学": (
        ("入学", STRONG), ("入園", STRONG), ("就学", STRONG), ("ランドセル", STRONG),
        ("学校+上がる", STRONG), ("一年生", STRONG), ("1年生", STRONG),
    ),
    "婚姻": (
        ("結婚", STRONG), ("婚姻", STRONG), ("入籍", STRONG), ("籍+入れる", STRONG),
        ("名字+変わる", WEAK), ("姓+変わる", WEAK), ("苗字+変わる", WEAK),
    ),
    "離婚": (
        ("離婚", STRONG), ("離縁", STRONG), ("親権", STRONG), ("養育費", STRONG),
        ("別れる+夫", STRONG), ("別れる+妻", STRONG), ("別れる+旦那", STRONG),
        ("別居", WEAK), ("ひとり親", WEAK), ("母子家庭", WEAK), ("シングルマザー", WEAK),
    ),
    "就職": (
        ("就職", STRONG), ("入社", STRONG), ("働く+始める", STRONG), ("採用+決まる", STRONG),
        ("社会保険+入る", STRONG), ("勤め+始める", STRONG),
    ),
    "退職": (
        ("退職", STRONG), ("失業", STRONG), ("離職", STRONG), ("解雇", STRONG),
        ("リストラ", STRONG), ("雇い止め", STRONG), ("定年", STRONG), ("会社+@leave", STRONG),
        ("仕事+@leave", STRONG), ("首+成る", STRONG), ("無職", WEAK),
    ),
    "65歳到達": (("@turn65+成る", STRONG), ("@turn65+迎える", STRONG)),
    "75歳到達": (("@turn75+成る", STRONG), ("@turn75+迎える", STRONG), ("後期高齢者+成る", STRONG)),
    "介護": (
        ("要介護", STRONG), ("介護+必要", STRONG), ("介護+認定", STRONG),
        ("施設+入る", STRONG), ("施設+入所", STRONG), ("老人ホーム", STRONG),
        ("ホーム+入る", STRONG),
        ("寝たきり", STRONG), ("デイサービス", STRONG), ("ヘルパー", STRONG),
        ("介護+始まる", STRONG), ("介護+する", STRONG), ("認知症", WEAK),
    ),
}  # fmt: skip
"""Per life event, its triggers and their weight (see the module docstring)."""

CONDITION_TERMS: dict[str, tuple[str, ...]] = {
    "子どもあり": (
        "子供", "子", "息子", "娘", "児童", "赤ちゃん", "乳児", "幼児", "小学生", "中学生",
        "高校生", "保育園", "幼稚園", "長男", "長女", "次男", "次女", "孫", "双子",
    ),
    "小中学生あり": ("小学生", "中学生", "小学校", "中学校", "転校", "ランドセル", "小学"),
    "国保加入": ("国保", "国民健康保険", "自営業", "自営", "フリーランス"),
    "国民年金加入": ("国民年金",),
    "65歳以上": ("高齢", "高齢者", "老人", "年金生活", "婆", "爺", "祖母", "祖父", "@age65"),
    "75歳以上": ("後期高齢者", "@age75"),
    "要介護": ("要介護", "介護", "施設", "寝たきり", "認知症", "老人ホーム", "デイサービス"),
    "障害者手帳あり": ("障害者手帳", "療育手帳", "障害", "障がい"),
    "自動車あり": ("車", "自動車", "軽自動車", "バイク", "原付", "運転免許", "免許"),
    "犬あり": ("犬", "飼い犬", "ワン", "愛犬"),
    "外国籍": ("外国人", "外国籍", "在留カード", "在留", "国籍", "ビザ", "留学生", "技能実習"),
    "持ち家": ("持ち家", "不動産", "固定資産", "土地", "マイホーム"),
    "ひとり親": ("ひとり親", "母子家庭", "父子家庭", "シングルマザー", "シングルファザー"),
    "世帯主": ("世帯主",),
}  # fmt: skip
"""Per condition, the terms that pre-tick it when they occur in the query."""

EVENT_CONDITIONS: dict[str, tuple[str, ...]] = {
    "出生": ("子どもあり",),
    "入学": ("子どもあり", "小中学生あり"),
    "65歳到達": ("65歳以上",),
    "75歳到達": ("65歳以上", "75歳以上"),
}
"""Conditions a recognised event implies (a birth means a child in the household)."""

_AGE_RE = re.compile(r"(\d{1,3})\s*(?:歳|才)")
_KIN = "父 母 夫 妻 祖父 祖母 兄 姉 弟 妹 息子 娘 ちち はは おっと つま おじいちゃん おばあちゃん"
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(spec: str) -> re.Pattern[str]:
    """A ``re:`` trigger's regular expression; ``@kin`` stands for a family member in kana
    or kanji (「ちちがなくなった」, which MeCab cannot split into words)."""
    found = _PATTERNS.get(spec)
    if found is None:
        found = re.compile(spec.replace("@kin", f"(?:{'|'.join(_KIN.split())})"))
        _PATTERNS[spec] = found
    return found


@dataclass(frozen=True)
class Recognition:
    """The life events and conditions found in one query."""

    events: tuple[str, ...]
    """Canonical events, strongest first; empty: no checklist to offer."""
    conditions: tuple[str, ...]
    """Conditions to pre-tick."""
    triggers: tuple[tuple[str, str], ...] = ()
    """``(event, trigger)`` pairs that fired: why each event was offered."""


@dataclass(frozen=True)
class ChecklistGroup:
    """The procedures of one department, by deadline."""

    department: str
    phone: str
    location: str
    procedures: tuple[Procedure, ...]


@dataclass(frozen=True)
class Checklist:
    """What a household has to do after its life events, as the counsellor filtered it."""

    events: tuple[str, ...]
    conditions: tuple[str, ...]
    """The ticked conditions the checklist was filtered by."""
    available_conditions: tuple[str, ...]
    """Every condition some procedure of these events requires (the boxes to offer)."""
    groups: tuple[ChecklistGroup, ...]
    hidden: int
    """Procedures of these events left out because a condition they need is not ticked."""

    @property
    def procedures(self) -> tuple[Procedure, ...]:
        """Every listed procedure, group by group."""
        return tuple(p for g in self.groups for p in g.procedures)


class LifeEventRecognizer:
    """Recognises life events and conditions in queries with MeCab lemmas.

    Args:
        tokenizer: The shared tokenizer (thread-safe).
    """

    def __init__(self, tokenizer: MeCabTokenizer | None = None) -> None:
        self.tokenizer = tokenizer or MeCabTokenizer()
        self._triggers = {
            event: tuple((tuple(spec.split("+")), weight, spec) for spec, weight in specs)
            for event, specs in TRIGGERS.items()
        }

    def recognize(self, query: str) -> Recognition:
        """The life events (strongest first) and conditions of ``query``.

        Args:
            query: What the citizen said, any length (only the words are read).
        """
        text = unicodedata.normalize("NFKC", query)
        terms = self._terms(text)
        scores: dict[str, float] = {}
        fired: list[tuple[str, str]] = []
        for event, triggers in self._triggers.items():
            for parts, weight, spec in triggers:
                if all(self._has(part, terms, text) for part in parts):
                    fired.append((event, spec))
                    scores[event] = max(scores.get(event, 0.0), weight)
        if any(score >= STRONG for score in scores.values()):
            scores = {e: s for e, s in scores.items() if s >= STRONG}
        order = list(LIFE_EVENTS)
        events = sorted(scores, key=lambda e: (-scores[e], order.index(e)))
        conditions: list[str] = []
        for condition, words in CONDITION_TERMS.items():
            if any(self._has(word, terms, text) for word in words):
                conditions.append(condition)
        for event in events:
            conditions.extend(EVENT_CONDITIONS.get(event, ()))
        ordered = [c for c in CONDITIONS if c in conditions]
        return Recognition(tuple(events), tuple(ordered), tuple(f for f in fired if f[0] in scores))

    def _terms(self, text: str) -> frozenset[str]:
        terms: set[str] = set()
        for m in self.tokenizer.morphemes(text):
            terms.add(m.lemma)
            terms.add(m.surface)
            if m.pos3 == "地名" and not m.surface.startswith("桜川"):
                terms.add("@place")
        ages = [int(a) for a in _AGE_RE.findall(text)]
        for age, term in ((65, "@age65"), (75, "@age75")):
            if any(a >= age for a in ages):
                terms.add(term)
            if age in ages:
                terms.add(term.replace("age", "turn"))
        return frozenset(terms)

    @staticmethod
    def _has(part: str, terms: frozenset[str], text: str) -> bool:
        if part.startswith("re:"):
            return _pattern(part[3:]).search(text) is not None
        if part.startswith("@"):
            group = GROUPS.get(part[1:])
            if group is None:
                return part in terms
            return any(LifeEventRecognizer._has(word, terms, text) for word in group)
        return part in terms or (len(part) >= 2 and part in text)


class ProcedureBook:
    """The stored procedures, indexed by life event, with the department directory."""

    def __init__(
        self, procedures: Iterable[Procedure], departments: Mapping[str, Department] = {}
    ) -> None:
        self.procedures = tuple(procedures)
        self.departments = dict(departments)
        self._by_event: dict[str, list[Procedure]] = {}
        for p in self.procedures:
            for event in p.life_events:
                self._by_event.setdefault(event, []).append(p)

    @property
    def events(self) -> tuple[str, ...]:
        """The life events some procedure belongs to, in the canonical order."""
        return tuple(e for e in LIFE_EVENTS if e in self._by_event)

    def of_events(self, events: Sequence[str]) -> list[Procedure]:
        """The procedures of ``events``, each once."""
        seen: dict[str, Procedure] = {}
        for event in events:
            for p in self._by_event.get(event, ()):
                seen.setdefault(p.id, p)
        return list(seen.values())

    def checklist(self, events: Sequence[str], conditions: Iterable[str]) -> Checklist:
        """The checklist of ``events`` for a household with ``conditions`` ticked.

        Args:
            events: Canonical life events (unknown ones contribute nothing).
            conditions: The ticked conditions.
        """
        ticked = set(conditions)
        candidates = self.of_events(events)
        shown = [p for p in candidates if set(p.conditions) <= ticked]
        available = {c for p in candidates for c in p.conditions}
        groups: dict[str, list[Procedure]] = {}
        for p in sorted(shown, key=deadline_key):
            groups.setdefault(p.department, []).append(p)
        out = []
        for name, items in sorted(groups.items(), key=lambda kv: deadline_key(kv[1][0])):
            dept = self.departments.get(name)
            out.append(
                ChecklistGroup(
                    name,
                    dept.phone if dept else "",
                    dept.location if dept else (items[0].where if items else ""),
                    tuple(items),
                )
            )
        return Checklist(
            events=tuple(e for e in events if e in self._by_event),
            conditions=tuple(c for c in CONDITIONS if c in ticked)
            + tuple(sorted(ticked - set(CONDITIONS))),
            available_conditions=tuple(c for c in CONDITIONS if c in available)
            + tuple(sorted(available - set(CONDITIONS))),
            groups=tuple(out),
            hidden=len(candidates) - len(shown),
        )


def deadline_key(p: Procedure) -> tuple[bool, int, str]:
    """Order of a procedure on a checklist: soonest deadline first, none last, then by id."""
    return (p.deadline_days is None, p.deadline_days or 0, p.id)


_BOOKS: weakref.WeakKeyDictionary[Searcher, ProcedureBook] = weakref.WeakKeyDictionary()
_BOOKS_LOCK = threading.Lock()


def book_for(searcher: Searcher) -> ProcedureBook:
    """The procedures served with ``searcher``'s index (read once per index build).

    The searcher's snapshot of the store holds the procedures that were stored when its index
    was built; its directory gives each department's phone and counter.
    """
    with _BOOKS_LOCK:
        book = _BOOKS.get(searcher)
        if book is None:
            book = ProcedureBook(searcher.store.procedures(), searcher.departments)
            _BOOKS[searcher] = book
        return book


def procedure_dict(p: Procedure) -> dict[str, Any]:
    """A procedure as JSON (the API's and ``kb brief --json``'s shape)."""
    data = asdict(p)
    data.pop("source")
    for name in ("life_events", "conditions", "documents"):
        data[name] = list(data[name])
    return data


def checklist_dict(checklist: Checklist) -> dict[str, Any]:
    """A checklist as JSON: groups of procedures by department."""
    return {
        "events": list(checklist.events),
        "conditions": list(checklist.conditions),
        "available_conditions": list(checklist.available_conditions),
        "groups": [
            {
                "department": g.department,
                "phone": g.phone,
                "location": g.location,
                "procedures": [procedure_dict(p) for p in g.procedures],
            }
            for g in checklist.groups
        ],
        "hidden": checklist.hidden,
    }
