"""Charts as inline SVG strings, rendered on the server: no chart library, no script.

Each chart is a self-contained ``<svg role="img">`` with a ``<title>`` (read by screen readers)
and a ``<text>`` label on every bar or point, so the numbers can be read without hovering.
All text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_FONT = "font-family=\"'Noto Sans CJK JP','Hiragino Sans',sans-serif\""
BAR_COLOR = "#2b6cb0"
LINE_COLORS = ("#c53030", "#dd6b20", "#2b6cb0", "#2f855a")


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value != int(value) else str(int(value))


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    width: int = 640,
    bar_height: int = 22,
    label_width: int = 220,
    percent: bool = False,
    chart_id: str = "",
) -> str:
    """A horizontal bar chart (one bar per label, values written at the bar's end).

    Args:
        title: Accessible title and heading of the chart.
        labels: Bar labels (truncated to 18 characters on screen; full text in ``<title>``).
        values: Non-negative values, aligned with ``labels``.
        percent: Write values as percentages (values are shares in [0, 1]).
        chart_id: ``id`` attribute of the ``<svg>``.
    """
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    top = 28
    height = top + bar_height * max(1, len(labels)) + 8
    plot = width - label_width - 60
    peak = max([v for v in values if v > 0], default=1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart bar-chart" '
        f"{f'id={chr(34)}{escape(chart_id)}{chr(34)} ' if chart_id else ''}"
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * bar_height
        w = max(0.0, value) / peak * plot
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {_fmt(value, percent)}</title>'
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.68:.1f}" font-size="12" '
            f'text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}" '
            f'fill="{BAR_COLOR}"/>'
            f'<text class="value" x="{label_width + w + 4:.1f}" y="{y + bar_height * 0.68:.1f}" '
            f'font-size="12">{_fmt(value, percent)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    periods: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
    height: int = 220,
    percent: bool = False,
    chart_id: str = "",
) -> str:
    """A line chart of one or more series over ``periods`` (months or days), with a legend.

    Args:
        title: Accessible title and heading.
        periods: X axis labels, in order.
        series: ``(name, values aligned with periods)``.
        percent: Values are shares in [0, 1]; the axis goes to 100%.
        chart_id: ``id`` attribute of the ``<svg>``.
    """
    for name, values in series:
        if len(values) != len(periods):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(periods)} periods")
    left, right, top, bottom = 44, 30, 44, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = 1.0 if percent else max([v for _, vs in series for v in vs] + [1.0])
    n = len(periods)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v / peak) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart line-chart" '
        f"{f'id={chr(34)}{escape(chart_id)}{chr(34)} ' if chart_id else ''}"
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end">'
        f"{_fmt(peak, percent)}</text>",
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    step = max(1, n // 8)
    for i, period in enumerate(periods):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="11" '
                f'text-anchor="middle">{escape(period)}</text>'
            )
    for s, (name, values) in enumerate(series):
        color = LINE_COLORS[s % len(LINE_COLORS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<g class="series" data-name="{escape(name)}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
        )
        for i, v in enumerate(values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)} {escape(periods[i])}: {_fmt(v, percent)}</title></circle>"
            )
        parts.append("</g>")
        # The legend shares the width equally; long names are cut to fit their slot.
        slot = (width - left) / len(series)
        fit = max(2, int((slot - 24) // 12))
        short = name if len(name) <= fit else name[: fit - 1] + "…"
        lx = left + s * slot
        parts.append(
            f'<rect x="{lx:.1f}" y="24" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 16:.1f}" y="34" font-size="12">{escape(short)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
