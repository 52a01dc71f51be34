"""GET /api/v1/trainer/model: the serving model and its adaptation, for the trainer page."""

from __future__ import annotations

from pathlib import Path

from kb.embed.adapt import ACTIVE_NAME, LAST_NAME, write_json_atomic
from tests.api.conftest import MakeClient


def test_model_status_before_and_after_an_adaptation(
    make_client: MakeClient, index_root: Path
) -> None:
    client = make_client(index_root, role="trainer", model="base-model", adapt=True)
    assert make_client(index_root, role="staff").get("/api/v1/trainer/model").status_code == 403
    first = client.get("/api/v1/trainer/model").json()
    assert first["enabled"] is True
    assert first["adapted"] is False
    assert first["base_model"] == "base-model"
    assert first["last_kept"] is None

    models = index_root.parent / "models"
    folder = models / "adapted-base-model-0123456789"
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    figures = {"queries": 20, "candidates": 200, "recall_at_1": 0.5, "recall_at_10": 0.8}
    write_json_atomic(
        models / LAST_NAME,
        {
            "folder": folder.name,
            "kept": True,
            "finished_at": "2026-01-05T03:00:00+00:00",
            "pairs": 220,
            "train_pairs": 200,
            "heldout_pairs": 20,
            "cpu_seconds": 480.0,
            "validation": {
                "base": {**figures, "mrr_at_10": 0.61},
                "adapted": {**figures, "mrr_at_10": 0.66},
            },
        },
    )
    write_json_atomic(
        models / ACTIVE_NAME,
        {"base_model": "base-model", "folder": folder.name, "adopted_at": "2026-01-05T03:05:00"},
    )
    now = client.get("/api/v1/trainer/model").json()
    assert now["adapted"] is True
    assert now["folder"] == folder.name
    assert now["adopted_at"] == "2026-01-05T03:05:00"
    assert now["last_kept"] is True
    assert now["train_pairs"] == 200
    assert now["base"]["mrr_at_10"] == 0.61
    assert now["adapted_validation"]["mrr_at_10"] == 0.66
    off = make_client(index_root, role="trainer", model="base-model", adapt=False)
    assert off.get("/api/v1/trainer/model").json()["adapted"] is False
    page = client.get("/trainer").text
    assert 'id="model"' in page
    assert "api/v1/trainer/model" in client.get("/static/trainer.js").text
