"""What `kb adapt` prints about an adaptation attempt."""

from __future__ import annotations

from typing import Any


def describe_attempt(record: dict[str, Any]) -> list[str]:
    """Lines for the command line about one attempt (:func:`kb.index.adapt.run_adaptation`)."""
    if "validation" not in record:
        return [f"適応しませんでした / not adapted: {record.get('reason', '')}"]
    v = record["validation"]
    base, adapted = v.get("base") or {}, v.get("adapted") or {}
    lines = [
        f"adapted on {record['train_pairs']} pairs in {record['seconds']:.0f} s "
        f"({record['cpu_seconds']:.0f} CPU s); held-out pairs ({record['heldout_pairs']}): "
        f"MRR@10 {base.get('mrr_at_10', 0):.3f} (base) -> {adapted.get('mrr_at_10', 0):.3f}",
    ]
    if record.get("kept"):
        lines.append(f"serving the adapted model {record['folder']} (index {record['index']})")
    else:
        lines.append(
            f"not kept: improved by {v['improved_by']:+.3f}, needs {v['min_gain']:+.3f}; "
            "the base model keeps serving"
        )
    return lines


__all__ = ["describe_attempt"]
