"""Odd and hostile input at the API: dates, upload file names, Host headers, input bombs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import docx
import pytest
from fastapi.testclient import TestClient

from kb.api.filenames import upload_name_problem
from kb.api.redirects import relative_location, valid_host
from tests.api.conftest import MakeClient
from tests.ingest._builders import zip_bomb_docx

FAQ = "id,question,answer\nU1,犬の登録は？,生活環境課で受け付けます。\n"

# --- search dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"date_from": "2024-13-45"}, "date_from: 「2024-13-45」は日付として使えません"),
        ({"date_to": "2024-02-30"}, "date_to: 「2024-02-30」は日付として使えません"),
        ({"date_from": "0000-01-01"}, "date_from"),
        ({"date_to": "２０２４-０２-０１"}, "date_to"),
        ({"date_from": "2025-04-01", "date_to": "2025-03-31"}, "より後です"),
    ],
)
def test_search_dates_must_be_real_calendar_dates(
    make_client: MakeClient, params: dict[str, str], fragment: str
) -> None:
    r = make_client(role="staff").get("/api/v1/search", params={"q": "相談", **params})
    assert r.status_code == 422
    assert fragment in r.json()["detail"]


def test_real_search_dates_are_accepted(make_client: MakeClient) -> None:
    r = make_client(role="staff").get(
        "/api/v1/search",
        params={"q": "相談", "date_from": "2024-02-29", "date_to": "2024-02-29"},
    )
    assert r.status_code == 200


# --- upload file names ------------------------------------------------------------------------


def _raw_upload(client: TestClient, filename: bytes, data: bytes = FAQ.encode()) -> Any:
    """Post one file with ``filename`` written into the multipart header byte for byte."""
    boundary = b"kbtestboundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + data
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    return client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=kbtestboundary"},
    )


@pytest.mark.parametrize(
    ("filename", "fragment"),
    [
        (b"faq\x00.csv", "U+0000"),
        (b"faq\x01\x1b.csv", "U+0001"),
        ("faq\u202evsc.csv".encode(), "U+202E"),  # right-to-left override
        ("あ".encode() * 100 + b".csv", "304 bytes long"),
        (b"a" * 300 + b".csv", "304 bytes long"),
    ],
)
def test_bad_upload_names_get_422_never_500(
    make_client: MakeClient, filename: bytes, fragment: str
) -> None:
    client = make_client(role="admin", lang="en")
    r = _raw_upload(client, filename)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "is not usable" in detail
    assert fragment in detail
    assert "\x00" not in detail
    assert "\u202e" not in detail
    uploads = client.app.state.settings.data_dir / "uploads"  # type: ignore[attr-defined]
    assert not any(uploads.rglob("*.csv"))


def test_a_long_japanese_name_within_255_bytes_is_accepted(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    name = "窓口" * 40 + ".csv"  # 244 bytes
    r = _raw_upload(client, name.encode())
    assert r.status_code == 200, r.text
    assert r.json()["documents"] == 1


def test_upload_name_problem() -> None:
    assert upload_name_problem("相談記録 2024年度.csv") is None
    assert upload_name_problem("C:\\Users\\taro\\faq.csv") is None  # IE mode sends the path
    assert upload_name_problem("x" * 251 + ".csv") is None
    assert "256 bytes" in (upload_name_problem("x" * 252 + ".csv") or "")
    assert "U+000A" in (upload_name_problem("faq\n.csv") or "")
    assert "U+200B" in (upload_name_problem("faq\u200b.csv") or "")


# --- Host header ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/staff/", "/staff"),
        ("/trainer/", "/trainer"),
        ("/static", "/static/"),
        ("/healthz/", "/healthz"),
        ("/api/v1/search/?q=x", "/api/v1/search?q=x"),
        ("/public/widget.js/", "/public/widget.js"),
    ],
)
def test_redirects_never_echo_the_host_header(
    make_client: MakeClient, path: str, location: str
) -> None:
    client = make_client(role="staff")
    r = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code in (301, 302, 303, 307, 308)
    # Relative (it also works under a proxy's sub-path), and it leads where it should.
    assert not r.headers["location"].startswith(("/", "http:", "https:"))
    assert (
        urljoin(f"http://kb.invalid{path}", r.headers["location"]) == f"http://kb.invalid{location}"
    )
    assert all("evil.example" not in v for k, v in r.headers.items() if k != "location")
    assert "evil.example" not in r.text


@pytest.mark.parametrize(
    "host", ["evil.example/x", "evil.example?a", "a b", "user@evil.example", "evil.example#x"]
)
def test_malformed_host_headers_get_400(make_client: MakeClient, host: str) -> None:
    r = make_client(role="staff").get("/trainer/", headers={"Host": host}, follow_redirects=False)
    assert r.status_code == 400
    assert "invalid Host header" in r.json()["detail"]
    assert "location" not in r.headers
    assert host not in r.text


@pytest.mark.parametrize(
    "host", ["kb.city.example.lg.jp", "localhost:8000", "127.0.0.1", "[::1]:8000", "KB-01"]
)
def test_ordinary_hosts_are_served(make_client: MakeClient, host: str) -> None:
    r = make_client(role=None).get("/healthz", headers={"Host": host})
    assert r.status_code == 200
    assert valid_host(host)


def test_relative_location() -> None:
    assert relative_location("http://testserver/trainer", "testserver") == "/trainer"
    assert relative_location("https://KB.example:8443/a?b=1#c", "kb.example:8443") == "/a?b=1#c"
    assert relative_location("/staff", "x") == "/staff"
    assert relative_location("http://x//evil.example", "x") == "/evil.example"
    assert relative_location("https://other.example/", "x") == "https://other.example/"
    assert relative_location("staff", "x") == "staff"


# --- input bombs through the admin upload -----------------------------------------------------


def test_an_uploaded_zip_bomb_is_a_file_error_and_the_other_files_are_stored(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(role="admin")
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", 30 * 1024 * 1024).read_bytes()
    r = client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        files=[
            ("files", ("bomb.docx", bomb, "application/octet-stream")),
            ("files", ("faq.csv", FAQ.encode(), "text/csv")),
        ],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["documents"] == 1
    (error,) = body["errors"]
    assert error["source"].endswith("bomb.docx")
    assert "max_zip_ratio" in error["message"]


def test_the_zip_limits_follow_the_settings(make_client: MakeClient, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("受付", level=1)
    document.add_paragraph("相談者の話を最後まで聞く。")
    path = tmp_path / "manual.docx"
    document.save(str(path))
    client = make_client(role="admin", max_zip_unpacked_bytes=10_000)
    r = client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        files=[("files", ("manual.docx", path.read_bytes(), "application/octet-stream"))],
    )
    assert r.status_code == 200, r.text
    (error,) = r.json()["errors"]
    assert "上限 10,000 バイト (max_zip_unpacked_bytes)" in error["message"]
