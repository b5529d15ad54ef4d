"""The hostile corpus: each file built from bytes at test time (some expand to hundreds of
MiB, so they are generated rather than committed), with what the API must answer.

    .venv/bin/python -m tests.hostile.files OUT_DIR   # write them out to look at
"""

from __future__ import annotations

import io
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pypdf

from tests.documents import docx_bytes, pdf_bytes

MAX_FILE_SIZE = 512 * 1024  # tests/conftest.py: base_config
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass(frozen=True)
class Hostile:
    """A file, the status and `talaro.check` (one of) the API must answer, and words of the
    reason."""

    name: str
    filename: str
    build: Callable[[], bytes]
    status: int
    checks: tuple[str, ...]
    reason: str


# PDF --------------------------------------------------------------------------------


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from object bodies (object n is objects[n-1]) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def _page_pdf(content_stream: bytes, *, resources: bytes = b"") -> bytes:
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> " + resources + b">> >>",
            content_stream,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _flate_stream(chunk: bytes, repeat: int) -> bytes:
    packer = zlib.compressobj(9)
    packed = b"".join(packer.compress(chunk) for _ in range(repeat)) + packer.flush()
    return (
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + (b"\nendstream")
    )


@cache
def deflate_bomb_pdf() -> bytes:
    """A page whose content stream inflates from ~300 KiB to 300 MiB of spaces."""
    return _page_pdf(_flate_stream(b" " * 1024 * 1024, 300))


@cache
def operator_flood_pdf() -> bytes:
    """Inside the library's 75 MB inflation limit, but ~2.5 million text operators: parsing
    it needs far more memory and time than any resume."""
    return _page_pdf(_flate_stream(b"BT /F1 1 Tf 1 1 Td (A) Tj ET\n" * 36_000, 70))


def nested_objects_pdf() -> bytes:
    """A page whose resources nest 50,000 dictionaries deep."""
    depth = 50_000
    return _page_pdf(
        b"<< /Length 0 >>\nstream\n\nendstream",
        resources=b"/Nested " + b"<< /A " * depth + b">>" * depth + b" ",
    )


def cyclic_objects_pdf() -> bytes:
    """A page tree whose node lists itself as its own kid, and a page its own parent."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 3 0 R /Contents 4 0 R /Resources 3 0 R >>",
            b"<< /Length 4 0 R >>\nstream\nBT (x) Tj ET\nendstream",
        ]
    )


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(_resume_pdf())))
    writer.encrypt("user-secret", "owner-secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    data = pdf_bytes([["Jane Doe", "jane@example.org"], ["Experience", "Acme"]])
    return data[: len(data) // 2]


def polyglot_pdf_zip() -> bytes:
    """A real PDF with a real DOCX (a ZIP) appended: either reader would accept it."""
    return _resume_pdf() + docx_bytes(["Jane Doe", "jane@example.org"])


def elf_renamed_pdf() -> bytes:
    """An ELF header with a PDF signature inside the first KiB, where readers look."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"%PDF-1.7\n" + bytes(2000)


def png_renamed_pdf() -> bytes:
    chunk = b"tEXt" + b"Comment\x00%PDF-1.4 hidden"
    return b"\x89PNG\r\n\x1a\n" + len(chunk[4:]).to_bytes(4, "big") + chunk + bytes(4 + 500)


def _resume_pdf() -> bytes:
    return pdf_bytes([["Hostile Test", "hostile@example.org"]])


# DOCX -------------------------------------------------------------------------------


_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _docx_with(document_xml: bytes | None = None, *, huge_member: int = 0) -> bytes:
    """A real python-docx package, with word/document.xml replaced (or padded to
    ``huge_member`` bytes of whitespace, written streaming so the test never holds it)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["Jane Doe", "jane@example.org"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in source.infolist():
            content = source.read(item)
            # A fixed time: members stamped "now" made two calls differ across a 2-second
            # tick, so a test's "the same file twice" was sometimes two files.
            item = zipfile.ZipInfo(item.filename, date_time=_FIXED_TIME)
            item.compress_type = zipfile.ZIP_DEFLATED
            if item.filename != "word/document.xml":
                archive.writestr(item, content)
            elif huge_member:
                with archive.open(item, "w", force_zip64=True) as member:
                    member.write(content[: content.rindex(b"</w:document>")])
                    for _ in range(huge_member // (1024 * 1024)):
                        member.write(b" " * 1024 * 1024)
                    member.write(b"</w:document>")
            else:
                archive.writestr(item, document_xml or content)
    return buffer.getvalue()


def _document(doctype: bytes, body_text: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + doctype
        + b'<w:document xmlns:w="%s"><w:body><w:p><w:r><w:t>Jane Doe</w:t></w:r></w:p>'
        % _W.encode()
        + b"<w:p><w:r><w:t>"
        + body_text
        + b"</w:t></w:r></w:p></w:body></w:document>"
    )


@cache
def zip_bomb_docx() -> bytes:
    """word/document.xml inflates from ~200 KiB to 200 MiB."""
    return _docx_with(huge_member=200 * 1024 * 1024)


def billion_laughs_docx() -> bytes:
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10)
    ]
    doctype = b"<!DOCTYPE w:document [" + b"".join(entities) + b"]>\n"
    return _docx_with(_document(doctype, b"&lol9;"))


XXE_TARGET = "file:///etc/passwd"


def external_entity_docx() -> bytes:
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "%s">]>\n' % XXE_TARGET.encode()
    return _docx_with(_document(doctype, b"&xxe;"))


RESOURCE_LIMITS = ("time_limit", "memory_limit")  # whichever the worker hits first

# Files the API must refuse, in the order the issue lists them ------------------------

HOSTILE = [
    Hostile("deflate_bomb", "bomb.pdf", deflate_bomb_pdf, 422, ("decompression",), "decompression"),
    Hostile(
        "operator_flood",
        "flood.pdf",
        operator_flood_pdf,
        422,
        ("time_limit", "memory_limit"),
        "limit",
    ),
    # pypdf skips the page it cannot parse (non-strict mode) and finds no text.
    Hostile("nested_objects", "nested.pdf", nested_objects_pdf, 422, ("no_text",), "no text"),
    Hostile("cyclic_objects", "cyclic.pdf", cyclic_objects_pdf, 422, ("corrupt",), "corrupt"),
    Hostile("encrypted", "locked.pdf", encrypted_pdf, 422, ("encrypted",), "encrypted"),
    Hostile("truncated", "cut.pdf", truncated_pdf, 422, ("corrupt",), "truncated"),
    Hostile("zip_bomb", "bomb.docx", zip_bomb_docx, 422, ("archive",), "MiB"),
    Hostile("billion_laughs", "laughs.docx", billion_laughs_docx, 422, ("xml_entities",), "DTD"),
    Hostile("external_entity", "xxe.docx", external_entity_docx, 422, ("xml_entities",), "DTD"),
    Hostile("pdf_and_zip", "both.pdf", polyglot_pdf_zip, 415, ("type",), "both a PDF and a ZIP"),
    Hostile("elf_as_pdf", "resume.pdf", elf_renamed_pdf, 415, ("type",), "ELF executable"),
    Hostile("png_as_pdf", "resume.pdf", png_renamed_pdf, 415, ("type",), "PNG image"),
    Hostile("empty", "empty.pdf", lambda: b"", 422, ("empty",), "empty"),
    Hostile("oversized", "big.txt", lambda: b"a" * (MAX_FILE_SIZE + 1), 413, ("size",), "limit"),
]


def write_all(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for item in HOSTILE:
        (folder / f"{item.name}-{item.filename}").write_bytes(item.build())


if __name__ == "__main__":
    write_all(Path(sys.argv[1]))
