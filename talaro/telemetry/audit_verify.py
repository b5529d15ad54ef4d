"""Verify the hash chains of security streams (see audit.py for what a record carries).

Usage::

    report = verify([Path("logs")], key=None)
    print(*report.lines(), sep="\\n")
    sys.exit(report.exit_code())

Input: files or folders (a folder means its ``security.jsonl``, rotated ones included,
the service's ``.N`` or the collector's timestamped ones, oldest first); the
records of one process may be spread over lines and files in any grouping, mixed with
other processes' records and with application records (skipped).

Per chain (``service.instance.id``), records are put in sequence order; each is checked
against its own hash, against its predecessor's hash, and against its position in the
files. Findings (`Finding.kind`):

``changed``     a record does not match its hash (content or hash altered)
``replaced``    a record matches its own hash but does not chain from its predecessor
                (one of the two was rewritten with a recomputed hash)
``removed``     sequence numbers missing between two records
``inserted``    a second record with a sequence number taken, or one without chain fields
``reordered``   a record that appears in the files after one with a higher sequence number
``unchained``   a process whose records carry no chain fields at all
``not_opened``  the chain does not start with ``sys_startup`` at seq 0 (head rotated away)
``not_closed``  the chain does not end with ``sys_shutdown`` (process running, killed,
                or the tail was cut)

With the database's checkpoints (checkpoints.py), each chain is also held to where it
stood, so a loss the files alone cannot show is found:

``missing``       the database has checkpoints of a chain none of whose records is in the files
``cut``           the files end before a checkpoint of the chain (its tail was cut)
``rotated_away``  the start of a chain is gone, and retention did not remove it
``diverged``      a record matches its hash but not the hash its checkpoint recorded
                  (the chain was rewritten from there with recomputed hashes)
``forged_checkpoint``  a checkpoint that does not match its HMAC (with a key)

A chain whose files retention removed (a ``prune`` note newer than its last checkpoint)
is listed as removed by retention, not as missing.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.proto_json.collector.logs.v1.logs_service import ExportLogsServiceRequest
from opentelemetry.proto_json.common.v1.common import KeyValue
from opentelemetry.proto_json.logs.v1.logs import LogRecord as JsonLogRecord

from talaro.telemetry import reader
from talaro.telemetry.audit import (
    CLOSES,
    HASH,
    INSTANCE,
    OPENS,
    PREV,
    SEQ,
    canonical,
    chain_hash,
)
from talaro.telemetry.catalogue import SECURITY, STREAM_ATTRIBUTE
from talaro.telemetry.checkpoints import END, PRUNE, Checkpoint

BROKEN_KINDS = (
    "changed",
    "replaced",
    "removed",
    "inserted",
    "reordered",
    "unchained",
    "missing",
    "cut",
    "rotated_away",
    "diverged",
    "forged_checkpoint",
)
INCOMPLETE_KINDS = ("not_opened", "not_closed")
WHOLE, BROKEN, INCOMPLETE = 0, 1, 3  # exit codes; 2 is a usage error (click's)
NOTHING = 2


@dataclass(frozen=True)
class Entry:
    """One security record as found in the files."""

    instance: str
    seq: int | None
    prev: str
    hash: str
    event: str
    location: str  # file:line
    order: int  # position in the files, oldest first
    verified: bool  # its hash matches its content
    recomputed: str  # the hash its content should have
    raw: str  # its canonical encoding with the hash, to tell a copy from a forgery
    pid: int | None


@dataclass(frozen=True)
class Finding:
    kind: str
    seq: int | None
    event: str
    location: str
    detail: str
    seq_end: int | None = None

    def line(self) -> str:
        kind = self.kind.replace("_", " ")
        if self.kind == "removed" or not self.location:
            return f"  {kind}: seq {self._seqs()}, {self.detail}"
        return f"  {kind}: seq {self._seqs()} {self.event} at {self.location}: {self.detail}"

    def _seqs(self) -> str:
        if self.seq_end is not None and self.seq_end != self.seq:
            return f"{self.seq}-{self.seq_end}"
        return "?" if self.seq is None else str(self.seq)


@dataclass
class ChainReport:
    instance: str
    records: int
    first: int | None
    last: int | None
    pid: int | None
    findings: list[Finding] = field(default_factory=list)
    hint: str | None = None
    accepted: dict[int, Entry] = field(default_factory=dict, repr=False)  # seq -> record

    def kinds(self) -> set[str]:
        return {finding.kind for finding in self.findings}

    def status(self, allow_open: bool = False, allow_rotated: bool = False) -> str:
        if self.kinds() & set(BROKEN_KINDS):
            return "broken"
        tolerated = {"not_closed"} if allow_open else set()
        if allow_rotated:
            tolerated.add("not_opened")
        return "incomplete" if self.kinds() - tolerated else "whole"

    def lines(self, allow_open: bool = False, allow_rotated: bool = False) -> list[str]:
        pid = f" (pid {self.pid})" if self.pid is not None else ""
        span = f"seq {self.first}-{self.last}" if self.records else "no chained record"
        status = self.status(allow_open, allow_rotated)
        head = f"chain {self.instance}{pid}: {span}, {self.records} records: {status}"
        return [head, *(finding.line() for finding in self.findings)] + (
            [f"  hint: {self.hint}"] if self.hint else []
        )


@dataclass
class Report:
    files: list[Path]
    chains: list[ChainReport]
    unreadable: list[str]
    allow_open: bool = False
    allow_rotated: bool = False
    checkpoints: int | None = None  # how many were read; None: not checked against any
    retained: list[str] = field(default_factory=list)  # chains removed by retention
    forged: list[Finding] = field(default_factory=list)  # checkpoints of no chain here

    def counts(self) -> dict[str, int]:
        counts = {"whole": 0, "broken": 0, "incomplete": 0}
        for chain in self.chains:
            counts[chain.status(self.allow_open, self.allow_rotated)] += 1
        return counts

    def chain(self, instance: str) -> ChainReport:
        return next(chain for chain in self.chains if chain.instance == instance)

    def exit_code(self) -> int:
        counts = self.counts()
        if counts["broken"] or self.unreadable or self.forged:
            return BROKEN
        if not self.chains:
            return NOTHING
        return INCOMPLETE if counts["incomplete"] else WHOLE

    def lines(self) -> list[str]:
        out: list[str] = []
        for chain in self.chains:
            out.extend(chain.lines(self.allow_open, self.allow_rotated))
        out.extend(f"unreadable: {problem}" for problem in self.unreadable)
        out.extend(f"checkpoints:{finding.line()[1:]}" for finding in self.forged)
        out.extend(f"retention: {line}" for line in self.retained)
        if self.checkpoints is not None:
            out.append(f"checkpoints: {self.checkpoints} read from the database")
        counts = self.counts()
        if not self.chains:
            out.append(f"result: no security records in {len(self.files)} files")
        else:
            out.append(
                f"result: {len(self.chains)} chains: {counts['whole']} whole, "
                f"{counts['broken']} broken, {counts['incomplete']} incomplete; "
                f"{len(self.unreadable)} unreadable lines"
            )
        return out


# Finding the files ----------------------------------------------------------------

_ROTATED = (
    re.compile(r"(?P<live>.+\.jsonl)\.\d+"),
    re.compile(rf"(?P<stem>.+)-{reader.COLLECTOR_TIMESTAMP}\.(?P<ext>jsonl)"),
)


def audit_files(paths: Iterable[Path]) -> list[Path]:
    """Folders replaced by their security files; files of one rotation family put in
    rotation order (oldest first) whatever order they were given in (a shell glob sorts
    ``security.jsonl`` before ``security.jsonl.1``)."""
    files = reader.expand_paths(paths, (SECURITY,))
    families: dict[tuple[Path, str], list[str]] = {}
    for file in files:
        families.setdefault((file.parent, _live_name(file.name)), []).append(file.name)
    ordered: list[Path] = []
    for (folder, live), names in families.items():
        rotation = reader._stream_file_names(names, live)  # same order as `flask logs`
        ordered.extend(folder / name for name in rotation + sorted(set(names) - set(rotation)))
    return ordered


def _live_name(name: str) -> str:
    if match := _ROTATED[0].fullmatch(name):
        return match["live"]
    if match := _ROTATED[1].fullmatch(name):
        return f"{match['stem']}.{match['ext']}"
    return name


# Reading ----------------------------------------------------------------------------


def read_entries(files: Sequence[Path], key: bytes | None, unreadable: list[str]) -> list[Entry]:
    """Every security record of `files`, in file order, each checked against its hash."""
    entries: list[Entry] = []
    for path in files:
        for number, request in reader.read_requests(path, warn=unreadable.append):
            for origin, record in _records(request):
                if _attribute(record.attributes, STREAM_ATTRIBUTE) != SECURITY:
                    continue
                entries.append(_entry(origin, record, f"{path}:{number}", len(entries), key))
    return entries


@dataclass(frozen=True)
class _Origin:
    instance: str
    resource: list[KeyValue]
    scope: str


def _records(request: ExportLogsServiceRequest) -> Iterator[tuple[_Origin, JsonLogRecord]]:
    for resource_logs in request.resource_logs:
        resource = resource_logs.resource.attributes if resource_logs.resource else []
        instance = _attribute(resource, INSTANCE)
        name = instance if isinstance(instance, str) else "(no instance id)"
        for scope_logs in resource_logs.scope_logs:
            scope = (scope_logs.scope.name if scope_logs.scope else None) or ""
            origin = _Origin(name, resource, scope)
            for record in scope_logs.log_records:
                yield origin, record


def _attribute(pairs: Iterable[KeyValue], key: str) -> object:
    for pair in pairs:
        if pair.key == key and pair.value is not None:
            value = pair.value
            for found in (value.string_value, value.int_value, value.bool_value):
                if found is not None:
                    return found
    return None


def _entry(
    origin: _Origin, record: JsonLogRecord, location: str, order: int, key: bytes | None
) -> Entry:
    seq = _attribute(record.attributes, SEQ)
    prev = _attribute(record.attributes, PREV)
    stated = _attribute(record.attributes, HASH)
    pid = _attribute(record.attributes, "process.pid")
    content = canonical(record, origin.resource, origin.scope)
    prev_text = prev if isinstance(prev, str) else ""
    recomputed = chain_hash(prev_text, content, key)
    stated_text = stated if isinstance(stated, str) else ""
    return Entry(
        instance=origin.instance,
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        prev=prev_text,
        hash=stated_text,
        event=record.event_name or str(_attribute(record.attributes, "event.action") or "?"),
        location=location,
        order=order,
        verified=bool(stated_text) and recomputed == stated_text,
        recomputed=recomputed,
        raw=content.decode("ascii") + stated_text,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
    )


# Verifying ----------------------------------------------------------------------------


def verify(
    paths: Iterable[Path],
    key: bytes | None = None,
    *,
    allow_open: bool = False,
    allow_rotated: bool = False,
    checkpoints: Sequence[Checkpoint] | None = None,
) -> Report:
    """Read and check every security chain found under `paths`, and against
    `checkpoints` (the database's) when given."""
    paths = list(paths)
    files = audit_files(paths)
    unreadable: list[str] = []
    entries = read_entries(files, key, unreadable)
    by_instance: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_instance[entry.instance].append(entry)
    chains = [verify_chain(instance, chain) for instance, chain in by_instance.items()]
    report = Report(files, chains, unreadable, allow_open, allow_rotated)
    if checkpoints is not None:
        folders = {str((path if path.is_dir() else path.parent).resolve()) for path in paths}
        cross_check(report, checkpoints, key, folders)
    return report


def verify_chain(instance: str, entries: Sequence[Entry]) -> ChainReport:
    """Check one process's records (in file order) and say what is wrong with them."""
    findings: list[Finding] = []
    chained = [entry for entry in entries if entry.seq is not None and entry.hash]
    if not chained and entries:
        detail = "no record of this process carries chain fields (written before the audit chain?)"
        findings.append(_finding("unchained", entries[0], detail))
    elif len(chained) < len(entries):
        for entry in entries:
            if entry.seq is None or not entry.hash:
                findings.append(_finding("inserted", entry, "a record without chain fields"))
    by_seq: dict[int, list[Entry]] = defaultdict(list)
    for entry in chained:
        by_seq[entry.seq].append(entry)  # type: ignore[index]
    accepted = _pick_genuine(by_seq, findings)
    _check_links(accepted, by_seq, findings)
    _check_order(accepted, findings)
    seqs = sorted(accepted)
    report = ChainReport(
        instance=instance,
        records=len(entries),
        first=seqs[0] if seqs else None,
        last=seqs[-1] if seqs else None,
        pid=next((e.pid for e in entries if e.event == OPENS and e.pid is not None), None),
        accepted=accepted,
    )
    if seqs:
        _check_ends(accepted, seqs, findings)
        if len(seqs) > 1 and not any(entry.verified for entry in accepted.values()):
            report.hint = (
                "no record matches its hash: was the chain written with another "
                "TALARO_AUDIT_KEY (or with a key, and none given here)?"
            )
    report.findings = sorted(findings, key=lambda f: f.seq if f.seq is not None else -1)
    return report


def _pick_genuine(by_seq: dict[int, list[Entry]], findings: list[Finding]) -> dict[int, Entry]:
    """For each sequence number, the record that belongs there; the others are inserted."""
    accepted: dict[int, Entry] = {}
    for seq in sorted(by_seq):
        candidates = by_seq[seq]
        before = accepted.get(seq - 1)
        after_prevs = {entry.prev for entry in by_seq.get(seq + 1, [])}

        best = max(candidates, key=lambda entry: _fitness(entry, before, after_prevs))
        accepted[seq] = best
        for other in candidates:
            if other is best:
                continue
            if other.raw == best.raw:
                detail = f"a copy of the record at {best.location}"
            elif not other.verified:
                detail = f"a second record with seq {seq}; it does not match its hash"
            else:
                detail = f"a second record with seq {seq}; the chain goes on from {best.location}"
            findings.append(_finding("inserted", other, detail))
    return accepted


def _fitness(entry: Entry, before: Entry | None, after_prevs: set[str]) -> tuple[bool, ...]:
    """Matches its hash, chains from the record before, the record after chains from it;
    `max` keeps the earliest in the files on a tie."""
    links_back = before is not None and entry.prev == before.hash
    return (entry.verified, links_back, entry.hash in after_prevs)


def _check_links(
    accepted: dict[int, Entry], by_seq: dict[int, list[Entry]], findings: list[Finding]
) -> None:
    seqs = sorted(accepted)
    for index, seq in enumerate(seqs):
        entry = accepted[seq]
        before = accepted.get(seq - 1)
        after = accepted.get(seq + 1)
        if index > 0 and seqs[index - 1] != seq - 1:
            low = accepted[seqs[index - 1]]
            findings.append(
                Finding(
                    "removed",
                    low.seq + 1,  # type: ignore[operator]
                    "",
                    entry.location,
                    f"missing between seq {low.seq} {low.event} ({low.location}) "
                    f"and seq {seq} {entry.event} ({entry.location})",
                    seq_end=seq - 1,
                )
            )
        if not entry.verified:
            if after is not None and after.prev == entry.hash:
                how = "its content was altered"
            elif after is not None and after.prev == entry.recomputed:
                how = "its hash was altered"
            else:
                how = "content or hash altered"
            findings.append(_finding("changed", entry, f"does not match its hash ({how})"))
        elif before is not None and before.verified and entry.prev != before.hash:
            findings.append(
                _finding(
                    "replaced",
                    entry,
                    f"does not chain from seq {before.seq} ({before.location}): one of the "
                    "two was rewritten with a recomputed hash",
                )
            )
        elif seq == 0 and entry.prev:
            findings.append(_finding("changed", entry, "seq 0 must not chain from anything"))


def _check_order(accepted: dict[int, Entry], findings: list[Finding]) -> None:
    """Records outside a longest run of rising sequence numbers (in file order) moved."""
    in_files = sorted(accepted.values(), key=lambda entry: entry.order)
    keep = _longest_rising(in_files)
    lowest_after: list[Entry | None] = [None] * len(in_files)  # lowest seq after each
    lowest: Entry | None = None
    for index in range(len(in_files) - 1, -1, -1):
        lowest_after[index] = lowest
        if lowest is None or (in_files[index].seq or 0) < (lowest.seq or 0):
            lowest = in_files[index]
    highest: Entry | None = None  # highest seq so far
    for index, entry in enumerate(in_files):
        seq = entry.seq or 0
        if entry.order not in keep:
            if highest is not None and (highest.seq or 0) > seq:
                other, where = highest, "after"
            else:
                other, where = lowest_after[index], "before"
            assert other is not None  # a record off the longest run is out of order
            detail = f"appears {where} seq {other.seq} {other.event} ({other.location})"
            findings.append(_finding("reordered", entry, detail))
        if highest is None or seq > (highest.seq or 0):
            highest = entry


def _longest_rising(entries: Sequence[Entry]) -> set[int]:
    """The `order` of the entries of a longest run of rising seq (patience sorting), built
    from the end so that of two swapped records the later one is the one that moved."""
    tails: list[int] = []  # per run length, the lowest last -seq of a run that long
    ends: list[int] = []  # the index of the entry ending that run
    parent = [-1] * len(entries)
    for index in range(len(entries) - 1, -1, -1):
        key = -(entries[index].seq or 0)
        position = bisect.bisect_left(tails, key)
        if position == len(tails):
            tails.append(key)
            ends.append(index)
        else:
            tails[position], ends[position] = key, index
        parent[index] = ends[position - 1] if position else -1
    keep: set[int] = set()
    index = ends[-1] if ends else -1
    while index >= 0:
        keep.add(entries[index].order)
        index = parent[index]
    return keep


def _check_ends(accepted: dict[int, Entry], seqs: list[int], findings: list[Finding]) -> None:
    first, last = accepted[seqs[0]], accepted[seqs[-1]]
    if seqs[0] != 0 or first.event != OPENS:
        findings.append(
            _finding(
                "not_opened",
                first,
                f"the chain starts here, not with {OPENS} at seq 0 "
                "(the start was rotated away or removed)",
            )
        )
    closed_at = next((seq for seq in seqs if accepted[seq].event == CLOSES), None)
    if closed_at is None:
        findings.append(
            _finding(
                "not_closed",
                last,
                f"the last record; no {CLOSES} (the process is running or was killed, "
                "or the tail was cut)",
            )
        )
    elif closed_at != seqs[-1]:
        for seq in seqs[seqs.index(closed_at) + 1 :]:
            detail = f"after the chain was closed by {CLOSES} at seq {closed_at}"
            findings.append(_finding("inserted", accepted[seq], detail))


# Against the checkpoints -------------------------------------------------------------


def cross_check(
    report: Report, checkpoints: Sequence[Checkpoint], key: bytes | None, folders: set[str]
) -> None:
    """Hold each chain to its checkpoints. A chain with checkpoints but no record in the
    files counts only if it wrote its security file into one of `folders` (a chain of
    another deployment, or of another folder, is not expected here)."""
    report.checkpoints = len(checkpoints)
    chains = {chain.instance: chain for chain in report.chains}
    genuine: dict[str, list[Checkpoint]] = defaultdict(list)
    pruned_until: int | None = None
    for point in checkpoints:
        if point.instance not in chains and point.location not in folders:
            continue  # another folder's chain or note: not expected here
        if not point.genuine(key):
            finding = Finding(
                "forged_checkpoint",
                point.seq,
                point.kind,
                "",
                f"checkpoint {point.kind} of {point.instance or '(none)'} at "
                f"{reader.format_time(point.time_unix_nano)} does not match its HMAC",
            )
            target = chains.get(point.instance)
            (target.findings if target is not None else report.forged).append(finding)
        elif point.kind == PRUNE:
            if point.location in folders:  # not a chain: `instance` is the pruning process
                pruned_until = max(pruned_until or 0, point.time_unix_nano)
        else:
            genuine[point.instance].append(point)
    for instance, points in genuine.items():
        points.sort(key=lambda point: point.seq)
        chain = chains.get(instance)
        if chain is None:
            _check_missing(report, instance, points, pruned_until, folders)
        elif chain.accepted:
            _check_against(chain, points, pruned_until)


def _check_missing(
    report: Report,
    instance: str,
    points: list[Checkpoint],
    pruned_until: int | None,
    folders: set[str],
) -> None:
    last = points[-1]
    if last.location not in folders:
        return
    when = reader.format_time(last.time_unix_nano)
    span = f"seq {points[0].seq}-{last.seq} ({last.kind} at {when})"
    if pruned_until is not None and last.time_unix_nano <= pruned_until:
        report.retained.append(f"chain {instance} (pid {last.pid}): {span}, removed by retention")
        return
    detail = f"none of its records is in the files; the database has its checkpoints up to {span}"
    chain = ChainReport(instance, 0, None, None, last.pid)
    chain.findings.append(Finding("missing", points[0].seq, "", "", detail, seq_end=last.seq))
    report.chains.append(chain)


def _check_against(chain: ChainReport, points: list[Checkpoint], pruned_until: int | None) -> None:
    accepted = chain.accepted
    first, last = accepted[min(accepted)], accepted[max(accepted)]
    for point in points:
        entry = accepted.get(point.seq)
        if entry is not None and entry.verified and entry.hash != point.hash:
            detail = (
                f"matches its hash, but its checkpoint ({point.kind} at "
                f"{reader.format_time(point.time_unix_nano)}) recorded another: the chain "
                "was rewritten from here with recomputed hashes"
            )
            chain.findings.append(_finding("diverged", entry, detail))
    beyond = [point for point in points if point.seq > (last.seq or 0)]
    if beyond:
        top = beyond[-1]
        closed = ", closed by sys_shutdown" if top.kind == END else ""
        detail = (
            f"the files end here, but a checkpoint says the chain reached seq {top.seq}"
            f"{closed} at {reader.format_time(top.time_unix_nano)}: its tail was cut"
        )
        chain.findings = [f for f in chain.findings if f.kind != "not_closed"]
        chain.findings.append(_finding("cut", last, detail))
    before = [point for point in points if point.seq < (first.seq or 0)]
    if before:
        latest = before[-1]
        chain.findings = [f for f in chain.findings if f.kind != "not_opened"]
        when = reader.format_time(latest.time_unix_nano)
        if pruned_until is None or latest.time_unix_nano > pruned_until:
            detail = (
                f"the chain starts here, but a checkpoint has seq {latest.seq} at {when}, "
                "and no retention removed files that recent: its start was removed"
            )
            chain.findings.append(_finding("rotated_away", first, detail))
        elif chain.hint is None:
            chain.hint = f"its records before seq {first.seq} were removed by retention"
    chain.findings.sort(key=lambda f: f.seq if f.seq is not None else -1)


def _finding(kind: str, entry: Entry, detail: str) -> Finding:
    return Finding(kind, entry.seq, entry.event, entry.location, detail)


def describe(report: Report) -> str:
    """The report as text, one line per chain and per finding, then a result line."""
    return "\n".join(report.lines())


def as_json(report: Report) -> str:
    """The report as one JSON document (for scripts)."""
    return json.dumps(
        {
            "exit_code": report.exit_code(),
            "files": [str(path) for path in report.files],
            "unreadable": report.unreadable,
            "chains": [
                {
                    "instance": chain.instance,
                    "pid": chain.pid,
                    "records": chain.records,
                    "first": chain.first,
                    "last": chain.last,
                    "status": chain.status(report.allow_open, report.allow_rotated),
                    "findings": [vars(finding) for finding in chain.findings],
                }
                for chain in report.chains
            ],
            "checkpoints": report.checkpoints,
            "retained": report.retained,
            "forged_checkpoints": [vars(finding) for finding in report.forged],
        }
    )
