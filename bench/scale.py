"""Scaled corpora for the benchmarks: the demo city grown to 10k, 100k or 1M chunks.

The generated FAQ entries and consultation cases recombine and perturb the demo corpus
(``corpus/faq``, ``corpus/cases``) within one department at a time, so a generated entry reads
like the city's own text and keeps a plausible department:

* FAQ: a demo question of the department, sometimes with an opener (「すみません、」, a district)
  or a second question of the same department; the answer starts with the base answer's first
  sentence and continues with sentences of other answers of that department;
* cases: a fresh persona (age, sex, district), sentences of the department's case summaries,
  sentences of its resolutions; dates spread over 2015–2026, channel and status vary;
* numbers (ages, amounts, days) are redrawn, and some records carry a reception number, which
  grows the vocabulary the way a real archive's does.

Every generated body stays under the chunker's limit, so one record is one chunk, and the demo
corpus itself (departments, FAQ, cases, manuals) is always part of a level: a level of N chunks
is the demo corpus plus N minus its chunk count generated records.

Each record remembers its *base* (the demo document it was derived from), written to
``bases.tsv``. :class:`DerivedVectors` uses it for the levels whose embeddings are derived
instead of computed: the base's real vector, mixed with a sibling's and perturbed with seeded
noise, then L2-normalised.

Usage::

    .venv/bin/python bench/scale.py --chunks 100000 --out data/bench/corpus-100k
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.ingest.chunking import MAX_CHARS, split_sentences
from kb.ingest.readers import iter_paths, read_path
from kb.store import text_hash
from kb.text.masking import FULL, Masker, MaskProfile
from kb.text.mecab import MeCabTokenizer
from kb.types import Document

REPO = Path(__file__).resolve().parent.parent
DEMO_CORPUS = REPO / "corpus"
FORMAT_VERSION = "1"
"""Bump when the generated text changes, so cached levels are regenerated."""
RECORDS_PER_FILE = 50_000
BODY_LIMIT = MAX_CHARS - 20
"""Generated bodies stay below the chunker's limit: one record, one chunk."""

DISTRICTS = (
    "桜川町", "東町", "西町", "北野", "南台", "川端", "緑ヶ丘", "中央", "本町", "旭町",
    "若葉台", "栄町", "城山", "港町", "新田", "宮前", "松原", "青葉", "大原", "湊",
)  # fmt: skip
OPENERS = ("すみません、", "教えてください。", "急ぎで確認したいのですが、", "初めてなのですが、")
CHANNELS = ("窓口", "電話", "メール", "LINE", "オンライン")
STATUSES = ("完了", "完了", "完了", "対応中", "引継済")
_SENTENCE_END = re.compile(r"(?<=。)")


@dataclass(frozen=True)
class Base:
    """The demo documents a level is grown from, grouped by department."""

    faq: tuple[Document, ...]
    cases: tuple[Document, ...]
    faq_by_dept: dict[str, tuple[Document, ...]]
    case_by_dept: dict[str, tuple[Document, ...]]
    demo_chunks: int
    """Chunks of the demo corpus itself (every level includes it)."""


def load_base(corpus: Path = DEMO_CORPUS) -> Base:
    """Read the demo corpus (FAQ and cases) with kb's own readers."""
    from kb.ingest.chunking import chunk_document, department_document
    from kb.text.mecab import MeCabTokenizer

    docs: list[Document] = []
    chunks = 0
    tokenizer = MeCabTokenizer()
    for path in iter_paths([corpus]):
        result = read_path(path)
        docs.extend(result.documents)
        chunks += len(result.departments)
        for dept in result.departments:
            chunks += len(chunk_document(department_document(dept), tokenizer)) - 1
    chunks += sum(len(chunk_document(d, tokenizer)) for d in docs)
    faq = tuple(d for d in docs if d.kind == "faq" and d.departments)
    cases = tuple(d for d in docs if d.kind == "case" and d.departments)
    if not faq or not cases:
        raise ValueError(f"{corpus}: needs FAQ entries and cases with departments to grow from")
    faq_by: dict[str, list[Document]] = defaultdict(list)
    case_by: dict[str, list[Document]] = defaultdict(list)
    for d in faq:
        faq_by[d.departments[0]].append(d)
    for d in cases:
        case_by[d.departments[0]].append(d)
    return Base(
        faq=faq,
        cases=cases,
        faq_by_dept={k: tuple(v) for k, v in faq_by.items()},
        case_by_dept={k: tuple(v) for k, v in case_by.items()},
        demo_chunks=chunks,
    )


_AGE = re.compile(r"(\d+)代")
_YEARS = re.compile(r"(\d+)歳")
_YEN = re.compile(r"([0-9,]+)円")


def _redraw_numbers(text: str, rng: random.Random) -> str:
    text = _AGE.sub(lambda m: f"{rng.choice((20, 30, 40, 50, 60, 70, 80))}代", text)
    text = _YEARS.sub(lambda m: f"{rng.randint(1, 95)}歳", text)
    return _YEN.sub(lambda m: f"{rng.randint(1, 300) * 100:,}円", text)


def _sentences(doc: Document, field: str) -> list[str]:
    return [s for s in split_sentences(getattr(doc, field)) if s.strip()]


def _fill(first: list[str], pool: Sequence[Document], field: str, rng: random.Random) -> str:
    """``first`` then sentences of other documents of ``pool``, up to :data:`BODY_LIMIT`."""
    parts = list(first[:2])
    budget = BODY_LIMIT - sum(len(p) for p in parts)
    for _ in range(rng.randint(1, 3)):
        other = _sentences(rng.choice(pool), field)
        if not other:
            continue
        sentence = rng.choice(other)
        if sentence in parts:
            continue
        if len(sentence) > budget:
            break
        parts.append(sentence)
        budget -= len(sentence)
    body = "".join(parts)
    return body[:BODY_LIMIT]


def _faq(i: int, base: Base, rng: random.Random) -> tuple[dict[str, object], str]:
    src = rng.choice(base.faq)
    dept = src.departments[0]
    pool = base.faq_by_dept[dept]
    question = src.title
    roll = rng.random()
    if roll < 0.3:
        question = rng.choice(OPENERS) + question
    elif roll < 0.5:
        question = f"{rng.choice(DISTRICTS)}に住んでいます。{question}"
    elif roll < 0.65:
        question = f"{question}また、{rng.choice(pool).title}"
    answer = _fill(_sentences(src, "body")[:1], pool, "body", rng)
    record: dict[str, object] = {
        "id": f"GF{i:07d}",
        "question": _redraw_numbers(question, rng)[:150],
        "answer": _redraw_numbers(answer, rng),
        "department": dept,
        "category": src.category,
        "published": rng.random() < 0.9,
    }
    return record, src.doc_id


def _case(i: int, base: Base, rng: random.Random) -> tuple[dict[str, object], str]:
    src = rng.choice(base.cases)
    dept = src.departments[0]
    pool = base.case_by_dept[dept]
    persona = (
        f"相談者は{rng.choice((20, 30, 40, 50, 60, 70, 80))}代{rng.choice(('男性', '女性'))}"
        f"（{rng.choice(DISTRICTS)}在住）。"
    )
    own = [s for s in _sentences(src, "title") if not s.startswith("相談者は")]
    summary = persona + "".join(own[:2])
    if rng.random() < 0.3:
        summary += f"受付番号{rng.randint(100000, 999999)}。"
    resolution = _fill(_sentences(src, "body")[:1], pool, "body", rng)
    day = rng.randint(0, 4300)  # 2015-01-01 .. 2026-10
    date = np.datetime64("2015-01-01") + np.timedelta64(day, "D")
    record: dict[str, object] = {
        "id": f"GC{i:07d}",
        "date": str(date),
        "channel": rng.choice(CHANNELS),
        "category": src.category,
        "summary": _redraw_numbers(summary, rng)[:200],
        "resolution": _redraw_numbers(resolution, rng),
        "departments": list(src.departments),
        "status": rng.choice(STATUSES),
    }
    return record, src.doc_id


def generate(
    base: Base, n: int, *, seed: int = 0, faq_share: float = 0.25
) -> Iterator[tuple[str, dict[str, object], str]]:
    """``n`` generated records as ``(kind, record, base doc_id)``, deterministic for ``seed``.

    Records are in kb's JSONL input format (``docs/schema.md``); ids are ``GF0000001``
    (FAQ) and ``GC0000001`` (cases).
    """
    rng = random.Random(seed)
    for i in range(1, n + 1):
        if rng.random() < faq_share:
            record, src = _faq(i, base, rng)
            yield "faq", record, src
        else:
            record, src = _case(i, base, rng)
            yield "case", record, src


@dataclass(frozen=True)
class Level:
    """A generated corpus on disk."""

    folder: Path
    chunks: int
    generated: int

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus"

    @property
    def bases(self) -> Path:
        return self.folder / "bases.tsv"


def level_folder(root: Path, chunks: int, seed: int = 0) -> Path:
    return root / f"corpus-{chunks}-s{seed}-v{FORMAT_VERSION}"


def write_level(root: Path, chunks: int, *, seed: int = 0, base: Base | None = None) -> Level:
    """Write (or reuse) the level of ``chunks`` chunks under ``root``.

    The folder holds ``corpus/`` (a copy of the demo corpus plus ``generated/*.jsonl``, ready for
    ``kb ingest``), ``bases.tsv`` (generated doc id → demo doc id) and ``level.json``. A
    complete folder is reused; a half-written one is replaced.
    """
    folder = level_folder(root, chunks, seed)
    done = folder / "level.json"
    if done.is_file():
        meta = json.loads(done.read_text("utf-8"))
        return Level(folder, int(meta["chunks"]), int(meta["generated"]))
    base = base or load_base()
    n = chunks - base.demo_chunks
    if n < 0:
        raise ValueError(f"{chunks} chunks is less than the demo corpus ({base.demo_chunks})")
    if folder.exists():
        shutil.rmtree(folder)
    corpus = folder / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus, ignore=shutil.ignore_patterns("tools", "_*"))
    gen = corpus / "generated"
    gen.mkdir()
    files: dict[str, object] = {}
    count: dict[str, int] = defaultdict(int)
    with open(folder / "bases.tsv", "w", encoding="utf-8") as bases:
        for kind, record, src in generate(base, n, seed=seed):
            k = count[kind]
            if k % RECORDS_PER_FILE == 0:
                old = files.get(kind)
                if old is not None:
                    old.close()  # type: ignore[attr-defined]
                files[kind] = open(  # noqa: SIM115 - rotated by hand
                    gen / f"{kind}-{k // RECORDS_PER_FILE:03d}.jsonl", "w", encoding="utf-8"
                )
            fh = files[kind]
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]
            bases.write(f"{kind}:{record['id']}\t{src}\n")
            count[kind] += 1
    for fh in files.values():
        fh.close()  # type: ignore[attr-defined]
    done.write_text(
        json.dumps({"chunks": chunks, "generated": n, "seed": seed, **count}), encoding="utf-8"
    )
    return Level(folder, chunks, n)


def read_bases(path: Path) -> dict[str, str]:
    """``bases.tsv`` as a dict: generated doc id → the demo doc id it was derived from."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            doc, _, src = line.rstrip("\n").partition("\t")
            out[doc] = src
    return out


class DerivedVectors:
    """An :class:`~kb.embed.embedder.Embedder` for large levels that derives document vectors.

    A generated chunk's vector is ``normalise(base + mix * sibling + noise)``: ``base`` is the
    real vector of the demo chunk it was derived from, ``sibling`` the real vector of another
    demo text (drawn by the same seed), ``noise`` Gaussian, seeded by the text's hash (the same text
    always gets the same vector). Demo chunks keep their real vectors. Queries are encoded by
    the real model, so the index is searched exactly as in production; the ``model_id`` is the
    real model's, so the searcher accepts the index.

    Args:
        real: The real embedder (queries; also the model id and dimension).
        base_vectors: ``text hash → real vector`` for the demo chunks' contents and titles.
        derived_from: ``text hash → text hash of the demo text`` it derives from.
        noise: Standard deviation of the noise per dimension.
        mix: Weight of the sibling vector.
    """

    def __init__(
        self,
        real: object,
        base_vectors: dict[str, np.ndarray],
        derived_from: dict[str, str],
        *,
        noise: float = 0.02,
        mix: float = 0.25,
    ) -> None:
        self.real = real
        self._keys = list(base_vectors)
        self._index = {h: i for i, h in enumerate(self._keys)}
        self._matrix = np.stack([base_vectors[h] for h in self._keys]).astype(np.float32)
        self.derived_from = derived_from
        self.noise = noise
        self.mix = mix

    @property
    def model_id(self) -> str:
        return str(self.real.model_id)  # type: ignore[attr-defined]

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.encode_queries(texts)  # type: ignore[attr-defined, no-any-return]

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            h = text_hash(text)
            own = self._index.get(h)
            if own is not None:
                out[row] = self._matrix[own]
                continue
            src = self.derived_from.get(h)
            if src is None or src not in self._index:
                raise KeyError(f"no base vector for generated text {text[:40]!r}")
            seed = int.from_bytes(hashlib.blake2b(h.encode(), digest_size=8).digest(), "little")
            rng = np.random.default_rng(seed)
            sibling = self._matrix[rng.integers(len(self._keys))]
            v = self._matrix[self._index[src]] + self.mix * sibling
            v = v + rng.normal(0.0, self.noise, self.dim).astype(np.float32)
            out[row] = v / np.linalg.norm(v)
        return out


class SentenceMemoTokenizer(MeCabTokenizer):
    """MeCab lemmas memoised per sentence, for ingesting the 100k and 1M levels in minutes.

    Generated text recombines a few thousand demo sentences, so almost every sentence has been
    analysed before. A text's lemmas are the concatenation of its sentences' lemmas (MeCab
    runs per sentence; a split only at 「。」 changes the analysis of a handful of words at
    most). This is the lexical counterpart of :class:`DerivedVectors`: the ingest figures of
    the 10k level, analysed whole by the real tokenizer, are the ones to quote.
    """

    def __init__(self) -> None:
        super().__init__()
        self._memo: dict[str, tuple[str, ...]] = {}

    def lemmas(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        for sentence in _SENTENCE_END.split(text):
            if not sentence:
                continue
            found = self._memo.get(sentence)
            if found is None:
                found = super().lemmas(sentence)
                if len(self._memo) < 2_000_000:
                    self._memo[sentence] = found
            out.extend(found)
        return tuple(out)


class SentenceMemoMasker(Masker):
    """A :class:`~kb.text.masking.Masker` that masks each distinct sentence once.

    The masking counterpart of :class:`SentenceMemoTokenizer`, for the 100k and 1M levels:
    masking runs MeCab over every case text for names, which would dominate their ingest.
    A text is masked sentence by sentence (split after 「。」); the rules match within a
    sentence, so only a name or an address spread over two sentences would be masked
    differently. It keeps the phones, words and domains of ``base``.
    """

    def __init__(self, base: Masker) -> None:
        super().__init__(base.tokenizer)
        self.keep_phones = base.keep_phones
        self.keep_words = base.keep_words
        self.public_email_domains = base.public_email_domains
        self._memo: dict[MaskProfile, dict[str, str]] = {}

    def mask(self, text: str, profile: MaskProfile = FULL) -> str:
        memo = self._memo.setdefault(profile, {})
        out: list[str] = []
        for sentence in _SENTENCE_END.split(text):
            if not sentence:
                continue
            found = memo.get(sentence)
            if found is None:
                found = super().mask(sentence, profile)
                if len(memo) < 2_000_000:
                    memo[sentence] = found
            out.append(found)
        return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, required=True)
    ap.add_argument("--root", type=Path, default=REPO / "data" / "bench")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    level = write_level(args.root, args.chunks, seed=args.seed)
    print(f"{level.folder}: {level.chunks} chunks ({level.generated} generated)")


if __name__ == "__main__":
    main()
