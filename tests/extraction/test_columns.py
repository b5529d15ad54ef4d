"""Two columns drawn row by row are read column by column; tables and one-column pages
keep their drawing order."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from talaro.extraction import PDF, extract_text

SIDEBAR = ["jane@example.org", "", "Skills", "Python, SQL", "", "Education", "BSc Physics, MIT"]
MAIN = [
    "Summary",
    "Engineer with 6 years of experience.",
    "",
    "Experience",
    "Data Engineer, Initech",
    "2020 – 2024",
    "Built the reporting pipeline",
    "",
    "Analyst, Globex",
    "2018 – 2020",
]


def _pdf(
    rows: list[list[tuple[float, str]]], right: list[tuple[float, str]] | None = None
) -> bytes:
    """Each row's (x, text) cells drawn left to right at one height; ``right`` is drawn
    right-aligned at that x on the same rows."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("Helvetica", 10)
    y, right = A4[1] - 60, right or []
    for index, cells in enumerate(rows):
        for x, text in cells:
            if text:
                pdf.drawString(x, y, text)
        if index < len(right) and right[index][1]:
            x, text = right[index]
            pdf.drawRightString(x, y, text)
        y -= 14
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _lines(data: bytes) -> list[str]:
    return [line for line in extract_text(data, PDF).text.splitlines() if line]


def test_columns_drawn_row_by_row_are_read_one_after_the_other():
    rows = [
        [(40, left), (215, right)]
        for left, right in zip(SIDEBAR + [""] * (len(MAIN) - len(SIDEBAR)), MAIN, strict=True)
    ]
    lines = _lines(_pdf([[(40, "Jane Doe")], *rows]))
    assert lines == ["Jane Doe", *[line for line in SIDEBAR + MAIN if line]]


def test_a_table_keeps_its_rows():
    table = [
        ("2020 – 2024", "Data Engineer", "Initech"),
        ("2018 – 2020", "Analyst", "Globex"),
        ("2015 – 2018", "Intern", "Hooli"),
    ]
    rows = [[(50, "Jane Doe")], [(50, "Experience")]]
    rows += [[(50, a), (210, b), (380, c)] for a, b, c in table]
    rows += [[(50, "Education")], [(50, "BSc Physics, MIT, 2015")]]
    lines = _lines(_pdf(rows))
    assert lines == [text for row in rows for _, text in row]  # the drawing order


def test_one_column_with_dates_on_the_right_is_unchanged():
    roles = ["Data Engineer, Initech", "- Built it", "Analyst, Globex", "- Ran it", "QA, Hooli"]
    dates = ["Jan 2020 - Present", "", "Mar 2018 - Dec 2019", "", "2015 - 2018"]
    rows = [[(50, "Experience")], *[[(50, role)] for role in roles]]
    right = [(0, ""), *[(545, date) for date in dates]]
    lines = _lines(_pdf(rows, right))
    drawn = [rows[0][0][1]]
    for [(_, role)], (_, date) in zip(rows[1:], right[1:], strict=True):
        drawn += [role, date] if date else [role]
    assert lines == drawn
