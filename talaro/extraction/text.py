"""Extract plain text from PDF, DOCX and plain-text resumes."""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import docx
import pypdf
from docx.exceptions import PythonDocxError
from docx.opc.exceptions import OpcError
from docx.opc.part import Part, XmlPart
from docx.section import Section, _Footer, _Header
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree
from pypdf.errors import DependencyError, LimitReachedError, PdfReadError, PyPdfError

from talaro.extraction.columns import read_columns
from talaro.extraction.filetypes import DOCX, PDF, TEXT, decode_text

_WORDS_PER_PAGE = 500
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")

# pypdf raises arbitrary built-in exceptions from deep inside its parser when the input is
# malformed (missing keys, wrong object types, broken streams, self-referencing objects), so
# these are caught around PDF parsing in addition to pypdf's own error classes.
_PDF_PARSE_ERRORS = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    RecursionError,
    AssertionError,
    OverflowError,
    ZeroDivisionError,
    EOFError,
    UnicodeError,
    NotImplementedError,  # unknown stream filters
    zlib.error,
)
_DOCX_PARSE_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    EOFError,
    NotImplementedError,  # zipfile: unsupported compression method or version
    RuntimeError,  # zipfile: password-protected member
    zlib.error,
    etree.LxmlError,
    OpcError,
    PythonDocxError,
)


# DOCX archive limits, checked from the ZIP central directory before anything is inflated.
# Real resumes are far below them: a few dozen members, a few MiB with pictures.
MAX_DOCX_MEMBERS = 1000
MAX_DOCX_UNCOMPRESSED = 64 * 1024 * 1024
MAX_DOCX_RATIO = 200  # per member of more than a MiB; XML rarely packs tighter than 30:1
_RATIO_FLOOR = 1024 * 1024
_XML_MEMBER = re.compile(r"\.(xml|rels)$", re.IGNORECASE)
# OOXML never carries a document type declaration: one is an entity expansion or XXE attempt.
_DTD_MARKERS = tuple(
    marker.encode(codec)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("ascii", "utf-16-le", "utf-16-be")
)


class ExtractionError(ValueError):
    """Text could not be extracted; str() is a human-readable reason and ``check`` names
    the check that failed (corrupt, encrypted, pages, archive, xml_entities, decompression,
    time_limit, memory_limit, worker_crash)."""

    def __init__(self, message: str, check: str = "corrupt") -> None:
        super().__init__(message)
        self.check = check

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        # Keeps `check` when the error travels back from an extraction worker process.
        return type(self), (str(self), self.check)


@dataclass(frozen=True)
class ExtractedText:
    """Normalised text of a document and its page count (estimated for DOCX)."""

    text: str
    pages: int


def normalise(text: str) -> str:
    """Strip NULs, collapse runs of spaces/tabs, trim lines; keep line breaks."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def extract_text(data: bytes, content_type: str, *, max_pages: int = 20) -> ExtractedText:
    """Extract normalised text from ``data`` of the given content type (see filetypes)."""
    if content_type == PDF:
        text, pages = _pdf_text(data, max_pages)
    elif content_type == DOCX:
        text, pages = _docx_text(data)
    elif content_type == TEXT:
        decoded = decode_text(data)
        if decoded is None:
            raise ExtractionError("Text is not valid UTF-8 or UTF-16")
        text, pages = decoded, 1
    else:
        raise ExtractionError(f"Unsupported content type {content_type!r}")
    return ExtractedText(text=normalise(text), pages=pages)


def _pdf_text(data: bytes, max_pages: int) -> tuple[str, int]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # Owner-password-only PDFs (printing/copying restrictions) open with an empty password.
        if reader.is_encrypted and not _decrypts_with_empty_password(reader):
            raise ExtractionError("PDF is encrypted", "encrypted")
        pages = len(reader.pages)
        if pages > max_pages:
            raise ExtractionError(f"PDF has more than {max_pages} pages ({pages})", "pages")
        texts = [_page_text(page) for page in reader.pages]
    except ExtractionError:
        raise
    except LimitReachedError as exc:
        raise ExtractionError(
            "PDF content expands beyond the decompression limit", "decompression"
        ) from exc
    except _PDF_PARSE_ERRORS as exc:
        raise ExtractionError("PDF is corrupt or truncated") from exc
    return "\n".join(texts), pages


def _page_text(page: pypdf.PageObject) -> str:
    """The page's text in drawing order, or column by column when its layout shows two
    columns that the drawing order interleaves (drawn row by row)."""
    text = page.extract_text() or ""
    try:
        # A narrower character grid than the default (1.25), so that small print (a long
        # URL fitted to a sidebar) does not run into the next column.
        layout = page.extract_text(extraction_mode="layout", layout_mode_scale_weight=2.0)
    except LimitReachedError:
        raise
    except _PDF_PARSE_ERRORS:  # the plain text is still good
        return text
    columns = read_columns(layout, text)
    return text if columns is None else "\n".join(columns)


def _decrypts_with_empty_password(reader: pypdf.PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except (DependencyError, PdfReadError, NotImplementedError):
        # DependencyError: AES needs the optional cryptography package; treat as locked.
        return False


def check_docx_archive(data: bytes) -> None:
    """Refuse zip bombs before python-docx inflates anything: member count, total and
    per-member expansion, all from the ZIP central directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except _DOCX_PARSE_ERRORS as exc:
        raise ExtractionError("DOCX is corrupt") from exc
    if len(members) > MAX_DOCX_MEMBERS:
        raise ExtractionError(f"DOCX has more than {MAX_DOCX_MEMBERS} archive members", "archive")
    if sum(member.file_size for member in members) > MAX_DOCX_UNCOMPRESSED:
        raise ExtractionError(
            f"DOCX expands to more than {MAX_DOCX_UNCOMPRESSED // 2**20} MiB", "archive"
        )
    for member in members:
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_DOCX_RATIO:
            raise ExtractionError(f"DOCX member expands {ratio:.0f} times (a zip bomb)", "archive")


_DTD_REFUSED = "DOCX declares XML entities (a DTD), which Word never writes"


def _docx_text(data: bytes) -> tuple[str, int]:
    check_docx_archive(data)
    try:
        # python-docx's parser never resolves entities (resolve_entities=False) and libxml2
        # refuses runaway expansion, so a DTD is found after parsing, or, when parsing
        # failed, by a scan that only a broken file pays for.
        document = docx.Document(io.BytesIO(data))
    except _DOCX_PARSE_ERRORS as exc:
        if _any_part_declares_dtd(data):
            raise ExtractionError(_DTD_REFUSED, "xml_entities") from exc
        raise ExtractionError("DOCX is corrupt") from exc
    if any(_has_dtd(part) for part in document.part.package.iter_parts()):
        raise ExtractionError(_DTD_REFUSED, "xml_entities")
    try:
        lines = list(_block_lines(document.iter_inner_content()))
        seen: set[str] = set()
        for section in document.sections:
            for part in _header_footer_parts(section):
                # Each section may define the same header again; keep each line once.
                for line in _block_lines(part.iter_inner_content()):
                    if line not in seen:
                        seen.add(line)
                        lines.append(line)
    except _DOCX_PARSE_ERRORS as exc:
        raise ExtractionError("DOCX is corrupt") from exc
    text = "\n".join(lines)
    return text, max(1, math.ceil(len(text.split()) / _WORDS_PER_PAGE))


def _has_dtd(part: Part) -> bool:
    if not isinstance(part, XmlPart):
        return False
    info = part.element.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None


def _any_part_declares_dtd(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(
                _declares_dtd(archive, member)
                for member in archive.infolist()
                if _XML_MEMBER.search(member.filename)
            )
    except _DOCX_PARSE_ERRORS:
        return False


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether the part holds a document type declaration (zipfile stops at the declared
    size and checks the CRC, so this stays bounded)."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(64 * 1024):
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                return True
            tail = window[-32:]
    return False


def _header_footer_parts(section: Section) -> list[_Header | _Footer]:
    parts = [section.header, section.footer]
    if section.different_first_page_header_footer:
        parts += [section.first_page_header, section.first_page_footer]
    return [part for part in parts if not part.is_linked_to_previous]


def _block_lines(blocks: Iterable[Paragraph | Table]) -> Iterator[str]:
    """Lines of paragraphs and tables in document order; a table row of one-line cells is
    kept on one line ("a | b | c") so that row-shaped entries stay together."""
    for block in blocks:
        if isinstance(block, Paragraph):
            yield block.text
        else:
            yield from _table_lines(block)


def _table_lines(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append("\n".join(_block_lines(cell.iter_inner_content())).strip())
        cells = [text for text in cells if text]
        if all("\n" not in text for text in cells):
            yield " | ".join(cells)
        else:
            yield from cells
