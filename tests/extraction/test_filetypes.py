import io
import random
import zipfile

import pytest

from talaro.extraction import DOCX, PDF, TEXT, UnsupportedFileType, detect_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00>\x00\x01\x00\x00\x00" + bytes(40)
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_pdf_is_detected_from_its_bytes(make_pdf):
    assert detect_type(make_pdf([["Jane Doe"]])) == PDF


def test_pdf_signature_after_leading_junk_within_first_kilobyte(make_pdf):
    assert detect_type(b"\r\n" * 100 + make_pdf([["x"]])) == PDF
    assert detect_type(b"x" * 1100 + b"%PDF-1.4\n") == TEXT


def test_docx_is_detected_from_its_bytes(make_docx):
    assert detect_type(make_docx(["Jane Doe"])) == DOCX


def test_zip_with_word_document_part_is_docx():
    assert detect_type(_zip({"word/document.xml": "<w:document/>"})) == DOCX


def test_plain_zip_is_rejected():
    with pytest.raises(UnsupportedFileType, match="ZIP archive but not a DOCX"):
        detect_type(_zip({"notes.txt": "hello", "word/styles.xml": "<x/>"}))


def test_truncated_zip_is_rejected(make_docx):
    with pytest.raises(UnsupportedFileType):
        detect_type(make_docx(["Jane Doe"])[:200])


@pytest.mark.parametrize(
    "data",
    [
        b"Jane Doe\nPython developer\n",
        "Zoë Ångström — Müller, São Paulo\n".encode(),
        b"\xef\xbb\xbfJane Doe with a UTF-8 BOM\n",
        "Jane Doe in UTF-16\n".encode("utf-16"),
        b"\xfe\xff" + "Jane Doe in UTF-16 BE\n".encode("utf-16-be"),
        b"one\ttab\r\nwindows lines\r\n",
    ],
)
def test_plain_text_is_detected(data):
    assert detect_type(data) == TEXT


def test_content_decides_not_the_name(make_pdf, tmp_path):
    renamed = tmp_path / "resume.txt"
    renamed.write_bytes(make_pdf([["Jane Doe"]]))
    assert detect_type(renamed.read_bytes()) == PDF


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PNG, id="png"),
        pytest.param(ELF, id="elf"),
        pytest.param(WINDOWS_EXE, id="exe"),
        pytest.param(random.Random(42).randbytes(4096), id="random"),
        pytest.param(b"text with a NUL\x00 byte", id="nul"),
        pytest.param(b"mostly control \x01\x02\x03\x04\x05", id="control-chars"),
        pytest.param(b"caf\xe9 latin-1 is not utf-8", id="latin-1"),
    ],
)
def test_other_content_is_rejected(data):
    with pytest.raises(UnsupportedFileType, match="not a PDF, DOCX or plain-text document"):
        detect_type(data)


def test_empty_data_is_rejected_with_reason():
    with pytest.raises(UnsupportedFileType) as caught:
        detect_type(b"")
    assert str(caught.value) == "File is empty"


def test_unsupported_file_type_is_a_value_error():
    assert issubclass(UnsupportedFileType, ValueError)


def test_a_few_control_characters_are_tolerated():
    text = "Jane Doe\x0c" + "Resume line\n" * 20
    assert detect_type(text.encode()) == TEXT


def test_pdf_and_zip_at_once_is_neither(make_pdf, make_docx):
    with pytest.raises(UnsupportedFileType, match="both a PDF and a ZIP archive"):
        detect_type(make_pdf([["Jane Doe"]]) + make_docx(["Jane Doe"]))
    with pytest.raises(UnsupportedFileType, match="both a PDF and a ZIP archive"):
        detect_type(_zip({"word/document.xml": "%PDF-1.7 <w:document/>"}))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(ELF + b"%PDF-1.7\n", "an ELF executable", id="elf"),
        pytest.param(WINDOWS_EXE + b"%PDF-1.4\n", "a Windows executable", id="exe"),
        pytest.param(PNG + b"tEXt%PDF-1.4", "a PNG image", id="png"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"%PDF-1.4", "a JPEG image", id="jpeg"),
    ],
)
def test_executables_and_images_are_named_even_with_a_pdf_header_inside(data, kind):
    with pytest.raises(UnsupportedFileType) as caught:
        detect_type(data)
    assert str(caught.value) == f"File content is {kind}, not a PDF, DOCX or plain-text document"
