"""Field-extraction accuracy on the labelled corpus (`make eval-parser`).

Each resume goes through the real path (detect_type, extract_text, extract_fields) from
its PDF/DOCX/text bytes; the values are compared with the true fields the generator drew.
Two splits: "dev" is the committed corpus (tests/corpus/files, seed 0) the extractor was
tuned against; "held-out" is a fresh corpus from another seed, never looked at while
tuning. The floors must hold on both; the numbers go to bench-results/eval-parser.json.

    python -m bench.eval_parser [--held-out-seed 1] [--count 60] [--show-errors FIELD]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from talaro.extraction import detect_type, extract_fields, extract_text
from tests.corpus.generate import Sample, generate

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "files"
RESULTS = ROOT / "bench-results" / "eval-parser.json"
# (field, metric) -> minimum, from issue 5.
FLOORS = {
    ("email", "precision"): 0.99,
    ("email", "recall"): 0.99,
    ("phone", "precision"): 0.95,
    ("phone", "recall"): 0.95,
    ("name", "precision"): 0.90,
    ("name", "recall"): 0.90,
    ("skills", "f1"): 0.80,
    ("years_experience", "within_one_year"): 0.85,
    # Issue 15: roles beside a place, year-only ranges as years, row-drawn two columns.
    ("experience", "f1"): 0.90,
    ("education", "f1"): 0.85,
}


def _norm(text: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


def _link_key(url: str) -> str:
    url = _norm(url).removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return url.rstrip("/")


@dataclass
class Count:
    """True positives, predictions and truths of one field over a corpus."""

    hits: int = 0  # predictions that are right
    found: int = 0  # truths that were found
    predicted: int = 0
    truths: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, predicted: Iterable[str], truth: Iterable[str], match=None) -> tuple[int, int]:
        predicted, truth = list(predicted), list(truth)
        match = match or (lambda p, t: p == t)
        hits = sum(any(match(p, t) for t in truth) for p in predicted)
        found = sum(any(match(p, t) for p in predicted) for t in truth)
        self.hits += hits
        self.found += found
        self.predicted += len(predicted)
        self.truths += len(truth)
        return hits, found

    def scores(self) -> dict[str, float]:
        precision = self.hits / self.predicted if self.predicted else 1.0
        recall = self.found / self.truths if self.truths else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _education_match(predicted: str, truth: dict) -> bool:
    text = _norm(predicted)
    return _norm(truth["degree"]) in text and _norm(truth["institution"]) in text


def _experience_match(predicted: dict, truth: dict) -> bool:
    def shown(value: str) -> str:
        # A resume that shows years only must give years only ("2020", not "2020-01").
        return value[:4] if truth["precision"] == "year" and value != "present" else value

    return (
        _norm(predicted.get("employer")) == _norm(truth["employer"])
        and _norm(predicted.get("title")) == _norm(truth["title"])
        and _norm(predicted.get("start")) == shown(truth["start"])
        and _norm(predicted.get("end")) == shown(truth["end"])
    )


def evaluate(samples: Iterable[Sample]) -> dict[str, dict]:
    """Per-field scores for ``samples``; ``_errors`` holds examples of misses per field."""
    counts = {
        name: Count()
        for name in ("name", "email", "phone", "links", "location", "skills", "education")
    }
    counts["experience"] = Count()
    within, years_total, years_errors = 0, 0, []
    resumes = 0
    by_layout: dict[str, dict[str, int]] = {}
    for sample in samples:
        resumes += 1
        truth = sample.truth
        text = extract_text(sample.data, detect_type(sample.data)).text
        today = datetime.date.fromisoformat(truth["today"])
        values = extract_fields(text, today=today).values
        label = f"{sample.filename} [{sample.layout}]"
        for name in ("name", "email", "phone", "location"):
            got = [_norm(values[name])] if values[name] else []
            if counts[name].add(got, [_norm(truth[name])]) != (len(got), 1):
                counts[name].errors.append(f"{label}: {values[name]!r} != {truth[name]!r}")
        got_links = [_link_key(link) for link in values["links"]]
        hits, found = counts["links"].add(got_links, [_link_key(u) for u in truth["links"]])
        if (hits, found) != (len(got_links), len(truth["links"])):
            counts["links"].errors.append(f"{label}: {got_links} != {truth['links']}")
        got_skills = {_norm(skill) for skill in values["skills"]}
        true_skills = {_norm(skill) for skill in truth["skills"]}
        counts["skills"].add(got_skills, true_skills)
        if got_skills != true_skills:
            extra, missed = sorted(got_skills - true_skills), sorted(true_skills - got_skills)
            counts["skills"].errors.append(f"{label}: extra {extra} missed {missed}")
        hits, found = counts["education"].add(
            values["education"], truth["education"], _education_match
        )
        if (hits, found) != (len(values["education"]), len(truth["education"])):
            counts["education"].errors.append(f"{label}: {values['education']}")
        hits, found = counts["experience"].add(
            values["experience"], truth["experience"], _experience_match
        )
        if (hits, found) != (len(values["experience"]), len(truth["experience"])):
            counts["experience"].errors.append(
                f"{label}: {values['experience']} != {truth['experience']}"
            )
        years_total += 1
        got_years = values["years_experience"]
        years_ok = got_years is not None and abs(got_years - truth["years_experience"]) <= 1.0
        if years_ok:
            within += 1
        else:
            years_errors.append(f"{label}: {got_years} != {truth['years_experience']}")
        layout = by_layout.setdefault(
            sample.layout, {"resumes": 0, "years_within_one_year": 0, "experience_found": 0}
        )
        layout["resumes"] += 1
        layout["years_within_one_year"] += years_ok
        layout["experience_found"] += found == len(truth["experience"])
    report: dict[str, dict] = {name: count.scores() for name, count in counts.items()}
    report["years_experience"] = {"within_one_year": round(within / max(years_total, 1), 4)}
    report["_resumes"] = {"count": resumes}
    report["_by_layout"] = dict(sorted(by_layout.items()))
    report["_errors"] = {name: count.errors for name, count in counts.items()}
    report["_errors"]["years_experience"] = years_errors
    return report


def committed_corpus() -> list[Sample]:
    labels = json.loads((CORPUS / "labels.json").read_text("utf-8"))
    return [
        Sample(name, (CORPUS / name).read_bytes(), entry["truth"], entry["layout"])
        for name, entry in sorted(labels.items())
    ]


def failures(report: dict[str, dict]) -> list[str]:
    return [
        f"{name} {metric} {report[name][metric]:.3f} < {floor}"
        for (name, metric), floor in FLOORS.items()
        if report[name][metric] < floor
    ]


def _print(title: str, report: dict[str, dict]) -> None:
    print(f"\n{title} ({report['_resumes']['count']} resumes)")
    print(f"  {'field':<18}{'precision':>10}{'recall':>10}{'f1':>10}")
    for name, scores in report.items():
        if name.startswith("_"):
            continue
        if "within_one_year" in scores:
            print(f"  {name:<18}{'within one year:':>20} {scores['within_one_year']:.3f}")
            continue
        row = (scores["precision"], scores["recall"], scores["f1"])
        print(f"  {name:<18}" + "".join(f"{value:>10.3f}" for value in row))
    print("  by layout: resumes / years within one year / every job found")
    for layout, counts in report["_by_layout"].items():
        print(
            f"    {layout:<22}{counts['resumes']:>4}{counts['years_within_one_year']:>6}"
            f"{counts['experience_found']:>6}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Seed 1 was the first held-out split; its errors were looked at once (a wrapped phone
    # number), so the default moved to a seed nobody has looked at.
    parser.add_argument("--held-out-seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=60, help="size of the held-out corpus")
    parser.add_argument("--show-errors", action="append", default=[], metavar="FIELD")
    args = parser.parse_args(argv)

    splits = {
        "dev": evaluate(committed_corpus() if CORPUS.exists() else generate(60, seed=0)),
        "held-out": evaluate(generate(args.count, seed=args.held_out_seed)),
    }
    failed = []
    for split, report in splits.items():
        _print(f"{split} split", report)
        for name in args.show_errors:
            for line in report["_errors"].get(name, []):
                print(f"    {name}: {line}")
        failed += [f"{split}: {problem}" for problem in failures(report)]
    RESULTS.parent.mkdir(exist_ok=True)
    payload = {
        "floors": {f"{name}.{metric}": floor for (name, metric), floor in FLOORS.items()},
        **{
            split: {k: v for k, v in report.items() if k != "_errors"}
            for split, report in splits.items()
        },
        "passed": not failed,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")
    if failed:
        print("Below the floors:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    print("All floors hold on both splits.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
