"""Detect a resume's file type from its bytes alone (never from its name)."""

from __future__ import annotations

import codecs
import io
import zipfile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"

_NOT_A_DOCUMENT = "not a PDF, DOCX or plain-text document"
_NOT_SUPPORTED = f"File content is {_NOT_A_DOCUMENT}"
_PRINTABLE_SHARE = 0.95
# Formats that are never a resume, named in the refusal when a file starts with them
# (PDF readers accept a header anywhere in the first KiB, so these could hide one).
_FOREIGN_SIGNATURES = (
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)


class UnsupportedFileType(ValueError):
    """The bytes are not a PDF, a DOCX or plain text; str() is a human-readable reason."""


def decode_text(data: bytes) -> str | None:
    """Decode plain text: UTF-8 (with or without BOM) or UTF-16 with a BOM; None if neither."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _is_plain_text(data: bytes) -> bool:
    text = decode_text(data)
    if text is None or "\x00" in text:
        return False
    if not text:
        return True
    printable = sum(1 for ch in text if ch.isprintable() or ch.isspace())
    return printable / len(text) >= _PRINTABLE_SHARE


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    # Besides BadZipFile, a damaged archive can make zipfile seek to a negative offset
    # (ValueError) or announce a version/compression it does not support (NotImplementedError).
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return False


def detect_type(data: bytes) -> str:
    """Return PDF, DOCX or TEXT for ``data``; raise UnsupportedFileType otherwise."""
    # Hand-written rather than a generic sniffer: three formats, each with an unambiguous
    # signature, and generic sniffers cannot tell a DOCX from any other ZIP archive.
    if not data:
        raise UnsupportedFileType("File is empty")
    for signature, kind in _FOREIGN_SIGNATURES:
        if data.startswith(signature):
            raise UnsupportedFileType(
                f"File content is {kind}, not a PDF, DOCX or plain-text document"
            )
    if b"%PDF-" in data[:1024]:
        if data.startswith(b"PK\x03\x04") or zipfile.is_zipfile(io.BytesIO(data)):
            # A polyglot: readers would disagree on what it is, so it is neither.
            raise UnsupportedFileType("File is both a PDF and a ZIP archive")
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return DOCX
        raise UnsupportedFileType("File is a ZIP archive but not a DOCX document")
    if _is_plain_text(data):
        return TEXT
    raise UnsupportedFileType(_NOT_SUPPORTED)
