import io
import zipfile

import pypdf
import pytest

from talaro.extraction import DOCX, PDF, TEXT, ExtractedText, ExtractionError, extract_text, text


def _encrypt(data: bytes, user_password: str, owner_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_text_joins_pages(make_pdf):
    data = make_pdf([["Jane Doe", "jane@example.com"], ["Experience", "Acme Corp"]])
    result = extract_text(data, PDF)
    # pypdf ends each page's text with a line break, so pages are one blank line apart.
    assert result == ExtractedText(
        text="Jane Doe\njane@example.com\n\nExperience\nAcme Corp", pages=2
    )


def test_pdf_two_column_layout_keeps_both_columns(make_pdf):
    left = ["Jane Doe", "Experience", "Engineer, Acme Corp"]
    right = ["Skills", "Python, C++", "Education", "BSc Physics"]
    text = extract_text(make_pdf([left], right_column=[right]), PDF).text
    lines = text.splitlines()
    for line in left + right:
        assert line in lines
    assert lines.index("Skills") < lines.index("Education")


def test_pdf_with_more_than_max_pages_is_rejected(make_pdf):
    data = make_pdf([[f"page {n}"] for n in range(4)])
    assert extract_text(data, PDF, max_pages=4).pages == 4
    with pytest.raises(ExtractionError, match="more than 3 pages"):
        extract_text(data, PDF, max_pages=3)


def test_encrypted_pdf_is_rejected(make_pdf):
    data = _encrypt(make_pdf([["Secret resume"]]), "user-secret", "owner-secret")
    with pytest.raises(ExtractionError) as caught:
        extract_text(data, PDF)
    assert str(caught.value) == "PDF is encrypted"


def test_pdf_with_only_an_owner_password_is_readable(make_pdf):
    data = _encrypt(make_pdf([["Restricted but readable"]]), "", "owner-secret")
    assert pypdf.PdfReader(io.BytesIO(data)).is_encrypted
    assert extract_text(data, PDF).text == "Restricted but readable"


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_truncated_pdf_is_rejected(make_pdf, keep):
    data = make_pdf([["Jane Doe"], ["Page two"]])
    with pytest.raises(ExtractionError, match="PDF is corrupt or truncated"):
        extract_text(data[: int(len(data) * keep)], PDF)


def test_pdf_header_followed_by_garbage_is_rejected():
    with pytest.raises(ExtractionError, match="PDF is corrupt"):
        extract_text(b"%PDF-1.7\n" + bytes(range(256)) * 4, PDF)


def test_docx_paragraphs_tables_and_headers(make_docx):
    data = make_docx(
        ["Jane Doe", "Experience"],
        table=[["Engineer", "Acme Corp", "2019 - 2021"], ["Analyst", "Globex", "2016 - 2019"]],
        header="Curriculum Vitae — Jane Doe",
        footer="jane@example.com",
    )
    result = extract_text(data, DOCX)
    assert result.text.splitlines() == [
        "Jane Doe",
        "Experience",
        "Engineer | Acme Corp | 2019 - 2021",
        "Analyst | Globex | 2016 - 2019",
        "Curriculum Vitae — Jane Doe",
        "jane@example.com",
    ]
    assert result.pages == 1


def test_docx_page_estimate_grows_with_length(make_docx):
    paragraphs = ["word " * 100] * 12
    assert extract_text(make_docx(paragraphs), DOCX).pages == 3


def test_docx_multi_line_table_cells_become_lines(make_docx):
    data = make_docx([], table=[["Skills\nPython\nSQL", "Languages"]])
    assert extract_text(data, DOCX).text.splitlines() == ["Skills", "Python", "SQL", "Languages"]


def test_corrupt_docx_is_rejected(make_docx):
    data = make_docx(["Jane Doe"])
    with pytest.raises(ExtractionError, match="DOCX is corrupt"):
        extract_text(data[: len(data) // 2], DOCX)


def test_zip_without_docx_package_parts_is_rejected():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<not-closed")
    with pytest.raises(ExtractionError, match="DOCX is corrupt"):
        extract_text(buffer.getvalue(), DOCX)


@pytest.mark.parametrize(
    "data",
    [
        b"Jane  Doe\t\tPython\r\nLine two\n",
        b"\xef\xbb\xbfJane  Doe\t\tPython\r\nLine two\n",
        "Jane  Doe\t\tPython\r\nLine two\n".encode("utf-16"),
    ],
)
def test_plain_text_is_decoded_and_normalised(data):
    assert extract_text(data, TEXT) == ExtractedText(text="Jane Doe Python\nLine two", pages=1)


def test_normalisation_strips_nuls_and_keeps_line_breaks():
    data = "  a\x00b   c  \n\n\n\n\nd\u00a0\u00a0e\n".encode()
    assert extract_text(data, TEXT).text == "ab c\n\nd e"


def test_undecodable_text_is_rejected():
    with pytest.raises(ExtractionError):
        extract_text(b"caf\xe9", TEXT)


def test_unknown_content_type_is_rejected():
    with pytest.raises(ExtractionError, match="Unsupported content type"):
        extract_text(b"GIF89a", "image/gif")


def test_extraction_error_is_a_value_error():
    assert issubclass(ExtractionError, ValueError)


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The package with members replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item.filename, replace.get(item.filename, source.read(item)))
        for name, content in replace.items():
            if name not in source.namelist():
                archive.writestr(name, content)
    return buffer.getvalue()


def test_docx_with_too_many_members_is_refused_before_parsing(make_docx):
    extra = {f"customXml/item{n}.xml": b"<a/>" for n in range(text.MAX_DOCX_MEMBERS)}
    with pytest.raises(ExtractionError) as caught:
        extract_text(_rezip(make_docx(["Jane Doe"]), extra), DOCX)
    assert caught.value.check == "archive"
    assert "archive members" in str(caught.value)


def test_docx_member_with_a_bomb_ratio_is_refused(make_docx):
    padded = b"<a>" + b" " * (8 * 1024 * 1024) + b"</a>"
    with pytest.raises(ExtractionError) as caught:
        extract_text(_rezip(make_docx(["Jane Doe"]), {"customXml/pad.xml": padded}), DOCX)
    assert caught.value.check == "archive"
    assert "zip bomb" in str(caught.value)


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE w:document [<!ENTITY x "y">]>',
        b'<!-- <a> --><!DOCTYPE w:document [<!ENTITY x "y">]>',
    ],
    ids=["plain", "after-a-comment"],
)
def test_docx_with_a_dtd_is_refused_with_its_own_reason(make_docx, prolog):
    data = make_docx(["Jane Doe"])
    original = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    head, _, body = original.partition(b"?>")
    hostile = _rezip(data, {"word/document.xml": head + b"?>" + prolog + body})
    with pytest.raises(ExtractionError) as caught:
        extract_text(hostile, DOCX)
    assert caught.value.check == "xml_entities"


def test_pdf_inflating_past_the_library_limit_is_refused():
    from tests.hostile.files import deflate_bomb_pdf

    with pytest.raises(ExtractionError) as caught:
        extract_text(deflate_bomb_pdf(), PDF)
    assert caught.value.check == "decompression"


def test_checks_name_what_failed(make_pdf):
    with pytest.raises(ExtractionError) as caught:
        extract_text(_encrypt(make_pdf([["x"]]), "u", "o"), PDF)
    assert caught.value.check == "encrypted"
    with pytest.raises(ExtractionError) as caught:
        extract_text(make_pdf([["x"]])[:300], PDF)
    assert caught.value.check == "corrupt"
