"""Reading a city's files: masking, column mapping, and the limits on what one file may hold."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    """How ``kb ingest`` and the admin upload read and check files."""

    keep_raw_text: bool = Field(
        default=False,
        description=(
            "Keep the unmasked text of ingested records in DATA_DIR/raw.sqlite (never served "
            "by the API). Off: raw personal data is never written anywhere."
        ),
    )
    mask_keep_words: list[str] = Field(
        default_factory=list,
        description=(
            "Words never masked as names at ingest (the city's place names); department "
            "names and aliases are always kept."
        ),
    )
    max_rows_per_file: int = Field(
        default=100_000,
        ge=1,
        description="A source file with more records than this is refused as a whole at ingest.",
    )
    columns_file: Path | None = Field(
        default=None,
        description=(
            "Column mapping file (TOML) for the city's own headers in CSV/JSONL/XLSX files, "
            "used by `kb ingest` and the admin upload (`kb ingest --columns` overrides it)."
        ),
    )
    xlsx_sheet: str = Field(
        default="",
        description="Sheet of an .xlsx file to ingest (default: the first; `kb ingest --sheet`).",
    )
    max_zip_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="A DOCX (zip) file that would unpack to more bytes is refused at ingest.",
    )
    max_xml_part_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1,
        description=(
            "A DOCX or XLSX file with an XML part that unpacks to more bytes (a Word document's "
            "text, a workbook's shared strings; worksheets, read as a stream, are bounded by "
            "max_sheet_cells) is refused at ingest: such a part is parsed whole, at about 20 "
            "bytes of memory per byte."
        ),
    )
    max_zip_ratio: float = Field(
        default=100.0,
        gt=1.0,
        description=(
            "A DOCX (zip) file with a part (1 MiB or more unpacked) compressed more than this "
            "many times is refused at ingest as a likely zip bomb."
        ),
    )
    max_sheet_cells: int = Field(
        default=5_000_000,
        ge=1,
        description=(
            "A workbook sheet with more cells (rows times used columns) is refused at ingest and "
            "upload, while it is read: a few KB can declare a cell in column XFD on every row."
        ),
    )
    max_pdf_pages: int = Field(
        default=2_000, ge=1, description="A PDF with more pages is refused at ingest."
    )
    max_pdf_objects: int = Field(
        default=1_000_000, ge=1, description="A PDF with more objects is refused at ingest."
    )
    max_pdf_content_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1,
        description=(
            "A PDF whose pages' drawing instructions (content streams, decoded, one stream "
            "counted for every page that shows it) are larger is refused at ingest: reading "
            "text from them takes about a second per megabyte."
        ),
    )
    max_manual_chars: int = Field(
        default=2_000_000,
        ge=1,
        description="A manual (DOCX, PDF, Markdown, text) with more text is refused at ingest.",
    )
    max_chunks_per_file: int = Field(
        default=3_000,
        ge=1,
        description="A manual file that makes more chunks (sections together) is refused.",
    )
    max_chunks_per_record: int = Field(
        default=25,
        ge=1,
        description=(
            "An FAQ entry, case or department row whose text makes more chunks (about 400 "
            "characters each) is reported as a row error and skipped."
        ),
    )
    max_record_title_chars: int = Field(
        default=2_000,
        ge=1,
        description=(
            "Longest FAQ question, case summary or department name in a CSV/JSONL row, and "
            "longest value of every other short field (category, status, phone...); a longer "
            "one is reported as a row error (file, line, field, length, limit) and the row "
            "skipped."
        ),
    )
    max_record_body_chars: int = Field(
        default=20_000,
        ge=1,
        description=(
            "Longest FAQ answer, case resolution or department duties in a CSV/JSONL row; a "
            "longer one is reported as a row error and the row skipped."
        ),
    )
