"""Real PDF (reportlab) and DOCX (python-docx) resumes built in memory for tests."""

from __future__ import annotations

import io
from collections.abc import Sequence

import docx
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def pdf_bytes(
    pages: Sequence[Sequence[str]], *, right_column: Sequence[Sequence[str]] = ()
) -> bytes:
    """One PDF page per item of ``pages`` (lines drawn top-down); ``right_column`` adds a
    second column of lines on the same pages, drawn after the first (a two-column layout)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _, height = A4
    for number, lines in enumerate(pages):
        columns = [(50, lines)]
        if number < len(right_column):
            columns.append((330, right_column[number]))
        for x, column in columns:
            y = height - 60
            for line in column:
                pdf.drawString(x, y, line)
                y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def docx_bytes(
    paragraphs: Sequence[str],
    *,
    table: Sequence[Sequence[str]] = (),
    header: str | None = None,
    footer: str | None = None,
) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        document.sections[0].footer.paragraphs[0].text = footer
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
