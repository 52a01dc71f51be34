from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kb.errors import InputError
from kb.ingest.encoding import decode_bytes, read_text

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

JAPANESE = "住民票の写しは①番窓口で～ｱｲｳ髙橋さんが受け付けます"


def test_utf8_is_decoded() -> None:
    assert decode_bytes(JAPANESE.encode("utf-8"), "f.csv") == JAPANESE


def test_utf8_bom_is_removed() -> None:
    text = decode_bytes(codecs.BOM_UTF8 + "id,質問\n".encode(), "f.csv")
    assert text == "id,質問\n"
    assert not text.startswith("\ufeff")


def test_cp932_as_excel_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(JAPANESE + "\r\n", encoding="cp932", newline="")
    # Not valid UTF-8: the CP932 path must be the one that decodes it.
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert read_text(path) == JAPANESE + "\n"


def test_a_utf8_bom_on_a_cp932_body_is_no_part_of_the_header() -> None:
    # An outside probe's export: 「鬠ｿ相談番号」 was refused as an unknown column.
    data = codecs.BOM_UTF8 + "相談番号,相談内容\r\nQ1,住民票\rQ2,児童手当\n".encode("cp932")
    assert decode_bytes(data, "f.csv") == "相談番号,相談内容\nQ1,住民票\nQ2,児童手当\n"


def test_utf16_with_bom_is_decoded() -> None:
    assert decode_bytes("id,質問\r\n".encode("utf-16"), "f.csv") == "id,質問\n"


@pytest.mark.parametrize("text", ["id,住民票\n1,住民票のこと\n", "ごみの出し方を知りたい\n"])
def test_euc_jp_is_not_mistaken_for_cp932_mojibake(text: str) -> None:
    data = text.encode("euc_jp")
    # These EUC-JP bytes are also valid CP932 (half-width katakana soup); EUC-JP must win.
    assert data.decode("cp932") != text
    assert decode_bytes(data, "f.csv") == text


def test_euc_jp_that_is_not_cp932_is_decoded() -> None:
    text = "id,質問\n1,市民課へのお問い合わせ\n"
    assert decode_bytes(text.encode("euc_jp"), "f.csv") == text


def test_half_width_katakana_in_cp932_stays_cp932() -> None:
    assert decode_bytes("ｱｲｳｴ\n".encode("cp932"), "f.csv") == "ｱｲｳｴ\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a\r\nb\r\n", "a\nb\n"), ("a\rb\r", "a\nb\n"), ("a\nb", "a\nb")],
)
def test_newlines_are_normalised(raw: str, expected: str) -> None:
    assert decode_bytes(raw.encode(), "f.txt") == expected


def test_latin1_and_euc_jp_mess_fails_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"id,question,answer\n"
        + "1,住民票,市民課\n".encode("euc_jp")
        + "2,café crème,à côté\n".encode("latin-1")
    )
    with pytest.raises(InputError) as info:
        read_text(path)
    assert info.value.source == str(path)
    assert info.value.line == 3
    assert "mixed.csv:3" in str(info.value)
    assert "cannot decode" in info.value.message


def test_latin1_file_is_refused_not_guessed() -> None:
    data = "id,question\n1,café crème brûlée\n".encode("latin-1")
    with pytest.raises(InputError) as info:
        decode_bytes(data, "latin.csv")
    assert info.value.line == 2


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "nope.csv")
