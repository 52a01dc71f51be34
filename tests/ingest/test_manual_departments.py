"""A manual's Subject property (DOCX core property, PDF /Subject) names its departments."""

from __future__ import annotations

from pathlib import Path

import docx
from fpdf import FPDF

from kb.ingest.readers import read_path


def test_docx_subject_gives_departments(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.subject = "高齢者支援課|介護保険課"
    document.add_heading("1. Intake", level=1)
    document.add_paragraph("Listen first.")
    path = tmp_path / "guide.docx"
    document.save(str(path))
    result = read_path(path)
    assert result.documents
    assert {d.departments for d in result.documents} == {("高齢者支援課", "介護保険課")}


def test_pdf_subject_gives_departments(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_subject("消費生活センター|市民相談センター")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Consumer guide\n1. Subscriptions\nCheck the contract first.")
    path = tmp_path / "guide.pdf"
    pdf.output(str(path))
    result = read_path(path)
    assert result.documents
    assert result.documents[0].departments == ("消費生活センター", "市民相談センター")


def test_manual_without_subject_has_no_departments(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("1. Intake", level=1)
    document.add_paragraph("Listen first.")
    path = tmp_path / "plain.docx"
    document.save(str(path))
    assert read_path(path).documents[0].departments == ()
