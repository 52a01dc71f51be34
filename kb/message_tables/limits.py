"""Size limits and the command line's progress lines: part of :data:`kb.messages.MESSAGES`.

The limits are :mod:`kb.ingest.limits` (zip, JSON depth, extracted text, chunks) and the
readers that check their own (:mod:`kb.ingest.pdf_reader`, :mod:`kb.ingest.readers`); the
progress lines are what ``kb ingest`` and ``kb build`` print while they work (:mod:`kb.cli`).
"""

from __future__ import annotations

LIMITS: dict[str, tuple[str, str]] = {
    # --- size limits (kb.ingest.limits, pdf_reader, readers, jsonl) ---------------------------
    "limits.zip_members": (
        "zip 内の項目数が {count:,} 個で、上限 {limit:,} 個を超えています"
        "（不正に細工されたファイルの疑い）。読み込みません",
        "the zip holds {count:,} entries, more than the limit of {limit:,} (a crafted file?); "
        "it was not read",
    ),
    "limits.zip_ratio": (
        "'{member}' の圧縮率が {ratio:,.0f} 倍（{packed:,} → {unpacked:,} バイト）で、"
        "上限 {limit:,.0f} 倍 (max_zip_ratio) を超えています（zip 爆弾の疑い）。読み込みません",
        "'{member}' unpacks {ratio:,.0f} times its size ({packed:,} → {unpacked:,} bytes), "
        "more than the limit of {limit:,.0f} (max_zip_ratio; a zip bomb?); it was not read",
    ),
    "limits.zip_part": (
        "'{member}' は展開すると {unpacked:,} バイトで、XML の部品の上限 {limit:,} バイト "
        "(max_xml_part_bytes) を超えています。読み込みません",
        "'{member}' unpacks to {unpacked:,} bytes, more than the limit of {limit:,} bytes for "
        "an XML part (max_xml_part_bytes); it was not read",
    ),
    "limits.zip_total": (
        "展開後の合計サイズが {total:,} バイトで、上限 {limit:,} バイト "
        "(max_zip_unpacked_bytes) を超えています（zip 爆弾の疑い）。読み込みません",
        "it unpacks to {total:,} bytes, more than the limit of {limit:,} bytes "
        "(max_zip_unpacked_bytes; a zip bomb?); it was not read",
    ),
    "limits.json_depth": (
        "JSON の入れ子が {depth} 段を超えています（不正なデータの疑い）。行をスキップしました",
        "the JSON nests deeper than {depth} levels (malformed data?); row skipped",
    ),
    "limits.lone_surrogate": (
        "JSON に対になっていないサロゲート（\\ud800 のような不正な文字）があります。"
        "行をスキップしました",
        "the JSON holds a lone surrogate (an invalid character such as \\ud800); row skipped",
    ),
    "limits.text_too_long": (
        "抽出したテキストが {chars:,} 文字に達し、上限 {limit:,} 文字 (max_manual_chars) を"
        "超えました。ファイルを分割して取り込んでください",
        "the extracted text reached {chars:,} characters, more than the limit of {limit:,} "
        "(max_manual_chars); split the file and ingest the parts",
    ),
    "limits.text_too_long_at": (
        "抽出したテキストが{where}までで {chars:,} 文字に達し、上限 {limit:,} 文字 "
        "(max_manual_chars) を超えました。ファイルを分割して取り込んでください",
        "the extracted text reached {chars:,} characters by {where}, more than the limit of "
        "{limit:,} (max_manual_chars); split the file and ingest the parts",
    ),
    "limits.page": ("{page} ページ目", "page {page}"),
    "limits.chunks_per_file": (
        "検索用の分割（チャンク）が {count:,} 個になり、上限 {limit:,} 個 "
        "(max_chunks_per_file) を超えています。ファイルを分割して取り込んでください",
        "the file makes {count:,} search chunks, more than the limit of {limit:,} "
        "(max_chunks_per_file); split the file and ingest the parts",
    ),
    "limits.chunks_per_record": (
        "本文が長すぎます: 検索用の分割（チャンク）が {count:,} 個で、上限 {limit:,} 個 "
        "(max_chunks_per_record) を超えています。行をスキップしました",
        "the body is too long: it makes {count:,} search chunks, more than the limit of "
        "{limit:,} (max_chunks_per_record); row skipped",
    ),
    "limits.pdf_objects": (
        "PDF のオブジェクト数が {count:,} 個で、上限 {limit:,} 個 (max_pdf_objects) を"
        "超えています（不正に細工されたファイルの疑い）。読み込みません",
        "the PDF holds {count:,} objects, more than the limit of {limit:,} (max_pdf_objects; "
        "a crafted file?); it was not read",
    ),
    "limits.sheet_cells": (
        "シート「{sheet}」のセル数が {row:,} 行目までで {count:,} 個になり、上限 {limit:,} 個 "
        "(max_sheet_cells) を超えました（遠い列に値のあるセルがあるか、細工されたファイルの疑い）。"
        "使っていない列と行を削除してから取り込んでください。何も保存されません",
        "sheet '{sheet}' reaches {count:,} cells by row {row:,}, more than the limit of "
        "{limit:,} (max_sheet_cells; a value in a far column, or a crafted file?); delete the "
        "unused columns and rows and ingest it again. Nothing was stored",
    ),
    "limits.pdf_content": (
        "PDF の {page:,} ページ目までで、ページの描画命令が {size:,} バイトになり、上限 "
        "{limit:,} バイト (max_pdf_content_bytes) を超えました。文字を読み取るのに時間が"
        "かかりすぎるため取り込みません。図の多いページを除くか、ファイルを分割して取り込んで"
        "ください",
        "by page {page:,} the PDF's drawing instructions reach {size:,} bytes, more than the "
        "limit of {limit:,} bytes (max_pdf_content_bytes): reading text from them would take "
        "too long; remove the pages of drawings or split the file and ingest the parts",
    ),
    "limits.pdf_pages": (
        "PDF のページ数が {count:,} ページで、上限 {limit:,} ページ (max_pdf_pages) を"
        "超えています。ファイルを分割して取り込んでください",
        "the PDF has {count:,} pages, more than the limit of {limit:,} (max_pdf_pages); "
        "split the file and ingest the parts",
    ),
    "limits.text_file_size": (
        "ファイルサイズが {size:,} バイトで、テキストの上限 {limit:,} 文字 "
        "(max_manual_chars) を確実に超えています。ファイルを分割して取り込んでください",
        "the file is {size:,} bytes, certainly more text than the limit of {limit:,} "
        "characters (max_manual_chars); split the file and ingest the parts",
    ),
    # --- progress of kb ingest / kb build (kb.cli) ---------------------------------------------
    "progress.start": ("kb: {stage}: {total} 件…", "kb: {stage}: {total} item(s)..."),
    "progress.done": (
        "kb: {stage}: 完了（{seconds:.1f} 秒）",
        "kb: {stage}: done in {seconds:.1f} s",
    ),
    "stage.parse": ("ファイルの読み込み", "parse"),
    "stage.mask": ("個人情報の伏字", "mask"),
    "stage.tokenize": ("形態素解析", "tokenize"),
    "stage.embed": ("ベクトル化", "embed"),
    "stage.embed_titles": ("見出しのベクトル化", "embed titles"),
    "stage.readings": ("読みがなの索引", "readings"),
    "stage.index": ("索引の作成", "index"),
}
"""Key → (Japanese, English), each a :meth:`str.format` template."""
