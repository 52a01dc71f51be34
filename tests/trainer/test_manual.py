"""Manual drafts: sections, representative cases with resolutions, FAQ, referrals; md and docx."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.ingest.docx_reader import read_docx
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.manual import UnknownDepartment, build_manual, related_faqs
from kb.trainer.topics import compute_topics


def test_markdown_draft_has_what_a_trainer_needs(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer
) -> None:
    draft = build_manual(corpus, tokenizer, "市民課", low_score=0.8)
    md = draft.markdown()
    assert md.startswith("# 市民課 相談対応マニュアル（下書き）\n")
    assert "完了済みの相談 4 件（2025-04〜2025-07）" in md
    assert "- 電話：099-555-1101" in md
    assert "## 相談の傾向" in md
    assert "| トピック | 件数 | 主な経路 | 最近3か月の傾向 |" in md
    assert "マイナンバーカード" in md
    # Representative cases with how they were resolved.
    assert "  - 相談：マイナンバーカードを紛失した。悪用されないか心配。" in md
    assert "  - 対応：市民課でマイナンバーカードの再交付を受け付けた。" in md
    # The related published FAQ and the department the case was referred to.
    assert "F001 マイナンバーカードをなくしました。（市民課）" in md
    assert "引継ぎ・連携先：国際交流課" in md
    assert "## 引継ぎ先の担当課一覧" in md
    assert "| 国際交流課 | 1 | 099-555-1125 | 本庁舎4階 |" in md
    # No case of another department.
    assert "粗大ごみ" not in md
    assert "近い公開FAQはありません" not in md  # its topic has a close FAQ


def test_draft_is_deterministic(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    a = build_manual(corpus, tokenizer, "消費生活センター").markdown()
    b = build_manual(corpus, tokenizer, "消費生活センター").markdown()
    assert a == b
    assert "定期購入" in a


def test_weak_related_faq_is_flagged(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    md = build_manual(corpus, tokenizer, "ごみ減量推進課", low_score=0.9).markdown()
    assert "近い公開FAQはありません" in md  # the corpus has no FAQ about 粗大ごみ


def test_alias_and_unknown_department(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    with pytest.raises(UnknownDepartment, match="市民課 のことですか") as err:
        build_manual(corpus, tokenizer, "市民")
    assert "（一覧: " in str(err.value)


def test_related_faqs_are_ranked(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    topic = compute_topics(corpus, tokenizer, department="消費生活センター").topics[0]
    related = related_faqs(corpus, topic)
    assert related[0][0] == "faq:F003"
    assert related[0][1] > related[-1][1]


def test_docx_draft_reads_back_with_the_same_sections(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer, tmp_path: Path
) -> None:
    draft = build_manual(corpus, tokenizer, "市民課")
    path = draft.write(tmp_path / "draft.docx", "docx")
    parsed = read_docx(path)
    assert not parsed.errors
    headings = [d.heading_path[-1] for d in parsed.documents if d.heading_path]
    assert "担当課の概要" in headings
    assert "相談の傾向" in headings
    assert any(h.startswith("1. ") for h in headings)
    text = "\n".join(d.body for d in parsed.documents)
    assert "相談：マイナンバーカードを紛失した。" in text
    assert "099-555-1101" in text
    assert parsed.documents[0].doc_title == "市民課 相談対応マニュアル（下書き）"


def test_unknown_format(corpus: TrainerCorpus, tokenizer: MeCabTokenizer, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        build_manual(corpus, tokenizer, "市民課").write(tmp_path / "x.pdf", "pdf")
