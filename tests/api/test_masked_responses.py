"""End to end: personal data in ingested case records never comes back from the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.cli import main
from kb.embed.embedder import FakeEmbedder
from kb.search.service import SearchService
from kb.settings import Settings

CASES = "\n".join(
    [
        "id,date,channel,category,summary,resolution,department,status",
        "C1,2024-04-02,窓口,介護,"
        "佐藤一郎さん（昭和20年1月2日生まれ、携帯080-2222-3333）の介護保険の相談。,"
        "介護保険課で要介護認定の申請を受付。被保険者番号 0012345678。"
        "自宅は桜川市本町2丁目3番4号。,介護保険課,完了",
        "",
    ]
)
SECRETS = ("佐藤", "一郎", "080-2222-3333", "昭和20年1月2日", "0012345678", "本町2丁目3番4号")


def test_search_and_detail_never_show_personal_data(tmp_path: Path) -> None:
    src = tmp_path / "cases.csv"
    src.write_text(CASES, encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    settings = Settings(data_dir=data, model="fake")
    from kb.security.keys import KeyStore

    keys = KeyStore(settings.keys_path)
    _, key = keys.create("desk", "staff")
    keys.close()
    app = create_app(
        settings,
        service_factory=lambda: SearchService(data / "indexes", FakeEmbedder(64)),
        load_in_background=False,
    )
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        bodies = [
            client.get("/api/v1/search", params={"q": "介護保険の相談"}),
            client.get("/api/v1/search", params={"q": "佐藤一郎"}),
            client.get("/api/v1/search", params={"q": "080-2222-3333"}),
            client.get("/api/v1/cases/C1"),
        ]
        for r in bodies:
            assert r.status_code == 200, r.text
        assert bodies[0].json()["cases"][0]["id"] == "C1"
        for r in bodies:
            shown = r.json()
            shown.pop("query", None)  # the echo of what the counsellor typed
            text = json.dumps(shown, ensure_ascii=False)
            for secret in SECRETS:
                assert secret not in text, (secret, text[:300])
        assert "[氏名]さん" in bodies[3].text
