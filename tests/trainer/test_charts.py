"""Server-side SVG charts: valid XML, one mark per value, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kb.trainer.charts import bar_chart, line_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_bar_chart_has_a_bar_and_a_value_per_label() -> None:
    svg = bar_chart("件数", ["介護<認知症>", "ごみ & 分別", "x" * 30], [10, 5, 0], chart_id="c1")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("id") == "c1"
    assert root.find("svg:title", NS).text == "件数"
    bars = root.findall(".//svg:g[@class='bar']", NS)
    assert len(bars) == 3
    widths = [float(b.find("svg:rect", NS).get("width")) for b in bars]
    assert widths[0] > widths[1] > 0
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == 0
    values = [b.find("svg:text[@class='value']", NS).text for b in bars]
    assert values == ["10", "5", "0"]
    assert bars[0].find("svg:title", NS).text == "介護<認知症>: 10"  # escaped in the markup
    assert "<認知症>" not in svg
    assert bars[2].findall("svg:text", NS)[0].text.endswith("…")


def test_bar_chart_percent_and_mismatch() -> None:
    svg = bar_chart("率", ["a"], [0.25], percent=True)
    assert ">25%<" in svg
    with pytest.raises(ValueError, match="length"):
        bar_chart("x", ["a", "b"], [1])


def test_line_chart_series_points_and_legend() -> None:
    periods = ["2026-01", "2026-02", "2026-03"]
    svg = line_chart(
        "0件率", periods, [("0件", [0.1, 0.5, 0.0]), ("低スコア", [0.2, 0.2, 0.3])], percent=True
    )
    root = ET.fromstring(svg)
    series = root.findall(".//svg:g[@class='series']", NS)
    assert [s.get("data-name") for s in series] == ["0件", "低スコア"]
    points = series[0].find("svg:polyline", NS).get("points").split()
    assert len(points) == 3
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[1] < ys[0] < ys[2]  # higher value, smaller y
    titles = [c.find("svg:title", NS).text for c in series[0].findall("svg:circle", NS)]
    assert titles == ["0件 2026-01: 10%", "0件 2026-02: 50%", "0件 2026-03: 0%"]
    labels = [t.text for t in root.findall("svg:text", NS)]
    assert "2026-01" in labels
    assert "100%" in labels
    with pytest.raises(ValueError, match="3 periods"):
        line_chart("x", periods, [("a", [1.0])])
