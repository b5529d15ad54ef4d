"""Builders for real PDF and DOCX files used by the extraction tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.documents import docx_bytes, pdf_bytes

PdfBuilder = Callable[..., bytes]


@pytest.fixture
def make_pdf() -> PdfBuilder:
    return pdf_bytes


@pytest.fixture
def make_docx() -> Callable[..., bytes]:
    return docx_bytes
