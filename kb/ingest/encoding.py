"""Decoding of text files: UTF-8 (with or without BOM), Shift_JIS/CP932 as Excel writes it.

The only module that imports a charset detector (``charset_normalizer``, lazily: it is a
fallback that most files never reach).

Order of attempts, each strict:

1. a UTF-16/32 byte-order mark (Excel's "Unicode text"), then UTF-8 with or without BOM;
2. CP932 — the superset of Shift_JIS that Excel, Notepad and most Japanese Windows software
   write (``①``, ``髙``, ``～``, half-width ``ｱ``). EUC-JP bytes often decode as valid but
   meaningless CP932 (mostly half-width katakana), so a strict EUC-JP decoding that yields
   more real Japanese text wins over such a result;
3. strict EUC-JP (older Unix systems), if the result contains kana;
4. charset-normalizer, accepted only when it names a Japanese or Unicode encoding: a file
   that decodes only as, say, Latin-1 is not one a city hall exports, and guessing would
   silently index mojibake.

A file that none of these decode raises :class:`~kb.errors.InputError` naming the first
line that could not be decoded.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import NoReturn

from kb.errors import InputError
from kb.messages import msg

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Encodings a charset detector may pick for us. Python codec names, as charset-normalizer
# reports them.
_ACCEPTED_GUESSES = frozenset(
    {
        "utf_8",
        "utf_16",
        "utf_16_le",
        "utf_16_be",
        "utf_32",
        "utf_32_le",
        "utf_32_be",
        "cp932",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "euc_jisx0213",
        "iso2022_jp",
        "iso2022_jp_1",
        "iso2022_jp_2",
        "iso2022_jp_2004",
        "iso2022_jp_3",
        "iso2022_jp_ext",
    }
)


def read_text(path: Path) -> str:
    """Read a text file, detect its encoding and normalise its newlines to ``\\n``.

    Args:
        path: The file.

    Returns:
        The decoded text, without a BOM.

    Raises:
        InputError: The file cannot be read or decoded.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), msg("files.missing")) from None
    except IsADirectoryError:
        raise InputError(str(path), msg("files.is_dir")) from None
    except OSError as exc:
        raise InputError(str(path), msg("files.unreadable", problem=exc.strerror or exc)) from None
    return decode_bytes(data, str(path))


def decode_bytes(data: bytes, source: str) -> str:
    """Decode the bytes of a text file and normalise its newlines to ``\\n``.

    Args:
        data: The file's content.
        source: The file, for error messages.

    Returns:
        The decoded text, without a BOM.

    Raises:
        InputError: No accepted encoding decodes the bytes; the message names the first
            line that fails to decode as UTF-8 or CP932 (whichever gets further).
    """
    text = _decode(data, source)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes, source: str) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                _fail(data, source, codec, exc)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if data.startswith(b"\xef\xbb\xbf"):
        # A UTF-8 BOM on a CP932 body (an editor that added one on saving): the BOM is no
        # part of the first header.
        data = data[3:]
    try:
        cp932 = data.decode("cp932")
    except UnicodeDecodeError as exc:
        cp932_error = exc
    else:
        return _prefer_euc_jp(data, cp932)
    try:
        euc = data.decode("euc_jp")
    except UnicodeDecodeError:
        pass
    else:
        if any("\u3041" <= ch <= "\u30ff" for ch in euc):
            return euc
    guessed = _guess(data)
    if guessed is not None:
        return guessed
    # The encoding that got further is most likely the one the file was meant to be in.
    _fail(
        data,
        source,
        *max((("UTF-8", utf8_error), ("CP932", cp932_error)), key=lambda pair: pair[1].start),
    )


def _prefer_euc_jp(data: bytes, cp932: str) -> str:
    """Choose strict EUC-JP over a CP932 reading that looks like mojibake."""
    if not any("\uff61" <= ch <= "\uff9f" or "\ue000" <= ch <= "\uf8ff" for ch in cp932):
        return cp932
    try:
        euc = data.decode("euc_jp")
    except UnicodeDecodeError:
        return cp932
    # Short runs of half-width katakana are valid in both encodings; only switch when the
    # EUC-JP reading has kana (almost all Japanese prose does) or CP932 produced private-use
    # characters, which no exported file contains.
    plausible = any("\u3041" <= ch <= "\u30ff" for ch in euc) or any(
        "\ue000" <= ch <= "\uf8ff" for ch in cp932
    )
    return euc if plausible and _japanese_score(euc) > _japanese_score(cp932) else cp932


def _japanese_score(text: str) -> int:
    """Full-width Japanese characters minus half-width katakana and private-use characters."""
    score = 0
    for ch in text:
        if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f":
            score += 1
        elif "\uff61" <= ch <= "\uff9f" or "\ue000" <= ch <= "\uf8ff":
            score -= 1
    return score


def _guess(data: bytes) -> str | None:
    import charset_normalizer  # the fallback is rare; keep the import off the common path

    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding not in _ACCEPTED_GUESSES:
        return None
    text = str(best)
    return text[1:] if text.startswith("\ufeff") else text


def _fail(data: bytes, source: str, codec: str, exc: UnicodeDecodeError) -> NoReturn:
    line = data.count(b"\n", 0, exc.start) + 1
    byte = f"0x{data[exc.start]:02x}"
    raise InputError(source, msg("files.undecodable", codec=codec, byte=byte), line=line)
