"""The manifest an index folder carries, and the check that refuses a mismatched index."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.errors import IndexError_, ManifestMismatch

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; loading checks it against the running configuration."""

    model: str
    dim: int
    tokenizer: str
    normalizer: str
    corpus_hash: str
    chunks: int
    dense_kind: str
    built_at: str
    build_seconds: float
    generation: int = 0
    """The store generation the build snapshotted (0: built before generations were counted)."""
    format: str = FORMAT_VERSION

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_NAME).write_text(
            json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8"
        )

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexError_(f"index manifest {path} is missing or unreadable: {exc}") from exc

    def check(self, *, model: str, dim: int, tokenizer: str, normalizer: str) -> None:
        """Raise :class:`ManifestMismatch` unless the index fits the running configuration."""
        problems = []
        if self.format != FORMAT_VERSION:
            problems.append(f"index format {self.format} (this kb reads {FORMAT_VERSION})")
        if self.model != model:
            problems.append(f"model {self.model!r} (configured: {model!r})")
        if self.dim != dim:
            problems.append(f"dimension {self.dim} (model gives {dim})")
        if self.tokenizer != tokenizer:
            problems.append(f"tokenizer {self.tokenizer} (running {tokenizer})")
        if self.normalizer != normalizer:
            problems.append(f"normalizer {self.normalizer} (running {normalizer})")
        if problems:
            raise ManifestMismatch(
                "the index was built with " + "; ".join(problems) + ". Rebuild it with `kb build`"
                " (or configure the model it was built with)."
            )
