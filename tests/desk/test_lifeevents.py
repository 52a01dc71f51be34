"""Life-event recognition (MeCab lemmas + triggers) and checklists (filter, group, order)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kb.desk.lifeevents import LifeEventRecognizer, ProcedureBook, deadline_key
from kb.ingest.procedures import read_procedures
from kb.text.mecab import MeCabTokenizer
from kb.types import Department, Procedure

REPO = Path(__file__).resolve().parents[2]
QUERIES = REPO / "eval" / "lifeevents" / "queries.jsonl"


@pytest.fixture(scope="module")
def recognizer() -> LifeEventRecognizer:
    return LifeEventRecognizer(MeCabTokenizer())


@pytest.fixture(scope="module")
def book() -> ProcedureBook:
    return ProcedureBook(read_procedures(REPO / "corpus" / "procedures.csv").procedures)


@pytest.mark.parametrize(
    ("query", "events", "conditions"),
    [
        ("父が亡くなった", ("死亡",), ()),
        ("ちちがなくなりました", ("死亡",), ()),
        ("来月引っ越してくる 子ども2人", ("転入",), ("子どもあり",)),
        ("こっちにひっこしてきた", ("転入",), ()),
        ("来月東京に引っ越すことになった", ("転出",), ()),
        ("市内で引っ越します", ("転居",), ()),
        ("おばあちゃんが施設に入ることになった", ("介護",), ("65歳以上", "要介護")),
        ("結婚して名字が変わった", ("婚姻",), ()),
        ("あかちゃんがうまれた", ("出生",), ("子どもあり",)),
        ("来月65歳になります", ("65歳到達",), ("65歳以上",)),
        ("会社を辞めた", ("退職",), ()),
    ],
)
def test_recognizes_events_and_conditions(
    recognizer: LifeEventRecognizer,
    query: str,
    events: tuple[str, ...],
    conditions: tuple[str, ...],
) -> None:
    found = recognizer.recognize(query)
    assert found.events == events
    assert set(conditions) <= set(found.conditions)
    assert found.triggers  # why it was offered


@pytest.mark.parametrize(
    "query",
    ["住民票の写しを取りたい", "財布がなくなった", "介護保険料の納付書が届いた", "", "x" * 5000],
)
def test_offers_nothing_without_a_life_event(recognizer: LifeEventRecognizer, query: str) -> None:
    assert recognizer.recognize(query).events == ()


def test_a_strong_trigger_outranks_a_weak_one(recognizer: LifeEventRecognizer) -> None:
    # 名字が変わった alone suggests marriage, but here it is a divorce.
    assert recognizer.recognize("離婚して名字が変わった").events == ("離婚",)
    assert recognizer.recognize("名字が変わった").events == ("婚姻",)


def test_checklist_filters_groups_and_orders(book: ProcedureBook) -> None:
    without = book.checklist(["転入"], [])
    with_children = book.checklist(["転入"], ["子どもあり"])
    names = {p.name for p in with_children.procedures}
    assert "児童手当の認定請求" in names
    assert "児童手当の認定請求" not in {p.name for p in without.procedures}
    assert with_children.hidden == without.hidden - (
        len(with_children.procedures) - len(without.procedures)
    )
    assert "子どもあり" in with_children.available_conditions
    for group in with_children.groups:
        assert all(p.department == group.department for p in group.procedures)
        assert list(group.procedures) == sorted(group.procedures, key=deadline_key)
    firsts = [deadline_key(g.procedures[0]) for g in with_children.groups]
    assert firsts == sorted(firsts)


def test_checklist_uses_the_directory_and_merges_events() -> None:
    procs = [
        Procedure("A", "転入届", "市民課", ("転入",), deadline="14日以内", deadline_days=14),
        Procedure("B", "国保加入", "保険年金課", ("転入", "退職"), ("国保加入",), "14日以内", 14),
        Procedure("C", "ごみ", "ごみ減量推進課", ("転入",)),
    ]
    book = ProcedureBook(procs, {"市民課": Department("市民課", "", "099-555-1101", "1階")})
    checklist = book.checklist(["転入", "退職"], ["国保加入"])
    assert [p.id for p in checklist.procedures] == ["A", "B", "C"]
    assert (checklist.groups[0].phone, checklist.groups[0].location) == ("099-555-1101", "1階")
    assert checklist.groups[-1].department == "ごみ減量推進課"  # no deadline: last
    assert book.checklist(["死亡"], []).procedures == ()


def _eval_module() -> Any:
    spec = importlib.util.spec_from_file_location("eval_lifeevents", REPO / "eval/lifeevents.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_queries_offer_the_right_checklist(book: ProcedureBook) -> None:
    queries = [json.loads(line) for line in QUERIES.read_text("utf-8").splitlines() if line]
    assert len(queries) >= 40
    assert sum(1 for q in queries if not q["events"]) >= 8
    report = _eval_module().evaluate(queries, book)
    assert report["right"] >= 0.9, report["misses"]
    assert report["false_offers"] == 0.0, report["misses"]
    assert report["nonempty"] == 1.0
