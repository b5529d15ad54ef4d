"""The labelled corpus: real files, distinct and reproducible, labels matching the files."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest

from talaro.extraction import DOCX, PDF, TEXT, detect_type, extract_text
from tests.corpus import generate as corpus

FILES = Path(corpus.__file__).parent / "files"


@pytest.fixture(scope="module")
def samples() -> list[corpus.Sample]:
    return corpus.generate(60)


def test_same_seed_same_bytes_and_every_file_distinct(samples):
    again = corpus.generate(60)
    assert [s.data for s in again] == [s.data for s in samples]
    digests = {hashlib.sha256(s.data).hexdigest() for s in samples}
    other_seed = {hashlib.sha256(s.data).hexdigest() for s in corpus.generate(60, seed=1)}
    assert len(digests) == 60
    assert not digests & other_seed


def test_formats_layouts_and_pages(samples):
    types = Counter(detect_type(s.data) for s in samples)
    assert types == {PDF: 20, DOCX: 20, TEXT: 20}
    assert {s.layout for s in samples} == set(corpus.RENDERERS)
    pdf_pages = {extract_text(s.data, PDF).pages for s in samples if s.filename.endswith(".pdf")}
    assert pdf_pages == {1, 2}
    assert {s.truth["pages"] for s in samples} == {1, 2}
    only_pdf = corpus.generate(5, seed=3, formats=("pdf",))
    assert [s.layout for s in only_pdf] == list(corpus.LAYOUTS["pdf"])


def test_truth_is_varied_and_well_formed(samples):
    truths = [s.truth for s in samples]
    names = [t["name"] for t in truths]
    assert any("-" in n for n in names) and any("." in n for n in names)
    assert any(not n.isascii() for n in names)
    assert len({phonenumbers.region_code_for_number(phonenumbers.parse(t["phone"]))
                for t in truths}) >= 8  # fmt: skip
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(t["phone"])) for t in truths)
    assert {t["date_style"] for t in truths} == set(corpus.DATE_STYLES)
    # Issue 15's layouts: roles beside a place, year-only ranges, row-drawn columns.
    assert sum(any(job.get("location") for job in t["experience"]) for t in truths) >= 10
    for truth in truths:
        assert truth["years_experience"] > 0
        assert all(job["start"] < (job["end"] if job["end"] != "present" else "9")
                   for job in truth["experience"])  # fmt: skip


def test_issue_15_layouts_are_in_the_text(samples):
    texts = [extract_text(s.data, detect_type(s.data)).text for s in samples]
    assert any(re.search(r"\b20\d\d – 20\d\d\b", text) for text in texts)  # year-only
    assert any(re.search(r", [A-Z][\w ]+ — [A-Z][\w, ]+, [A-Z]{2}\b", t) for t in texts)
    assert any(re.search(r"^[\w &.-]+, [A-Z][\w ]+, [A-Z]{2}$", t, re.M) for t in texts)


def test_rendered_text_carries_the_truth(samples):
    """What the generator drew is really in the file (checked on the text, not the parser)."""
    for sample in samples:
        text = extract_text(sample.data, detect_type(sample.data)).text.casefold()
        assert sample.truth["email"] in text, sample.filename
        for job in sample.truth["experience"]:
            assert job["employer"].casefold() in text, (sample.filename, job)


def test_committed_files_match_their_labels():
    labels = json.loads((FILES / "labels.json").read_text("utf-8"))
    assert len(labels) >= 60
    regenerated = {s.filename: s for s in corpus.generate(len(labels))}
    for name, entry in labels.items():
        data = (FILES / name).read_bytes()
        assert data == regenerated[name].data, f"{name}: run `make corpus` to regenerate"
        assert entry == {"layout": regenerated[name].layout, "truth": regenerated[name].truth}


def test_main_writes_files_and_labels(tmp_path, capsys):
    corpus.main(["--out", str(tmp_path), "--count", "4", "--seed", "9"])
    labels = json.loads((tmp_path / "labels.json").read_text("utf-8"))
    assert sorted(labels) == sorted(p.name for p in tmp_path.iterdir() if p.name != "labels.json")
    assert "Wrote 4 resumes" in capsys.readouterr().out
