"""FAQ files with the lifecycle columns: 所管課, 更新日 and 公開期限 (kb.trainer.lifecycle)."""

from __future__ import annotations

from pathlib import Path

from kb.ingest.pipeline import ingest
from kb.ingest.readers import read_path
from kb.store import Store
from kb.text.mecab import MeCabTokenizer

CSV = (
    "番号,質問,回答,所管課,更新日,公開期限\n"
    "F1,粗大ごみの出し方は？,申込制です。,ごみ減量推進課,R6.6.1,令和12年3月31日\n"
    "F2,犬の登録は？,環境衛生課へ。,環境衛生課,2024/6/1,\n"
    "F3,転入届は？,14日以内に。,市民課,2024-06-01,来年の春\n"
)


def test_owner_dates_and_the_owner_as_department(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(CSV, encoding="utf-8")
    result = read_path(path)
    docs = {d.doc_id: d for d in result.documents}
    f1 = docs["faq:F1"]
    assert (f1.owner, f1.updated, f1.expires) == ("ごみ減量推進課", "2024-06-01", "2030-03-31")
    assert f1.departments == ("ごみ減量推進課",)  # no 担当課 column: the owner is the contact
    assert (docs["faq:F2"].updated, docs["faq:F2"].expires) == ("2024-06-01", "")
    (error,) = result.errors
    assert (error.line, error.field) == (4, "expires")
    assert "来年の春" in error.message


def test_an_owner_outside_the_directory_is_masked_like_a_department(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,question,answer,department,owner\nF1,質問,回答,市民課,佐々木和子様\n", encoding="utf-8"
    )
    store = Store(None)
    ingest([path], store, tokenizer=tokenizer)
    doc = store.get_documents(["faq:F1"])["faq:F1"]
    assert "佐々木" not in doc.owner
    assert doc.departments == ("市民課",)
    store.close()
