"""Importing a lead file into contacts and a list, in one transaction.

Why it is built this way:
- One transaction (storage.db.transaction): a killed import leaves nothing
  half-written, and a re-run starts from a clean state.
- Parsing in Python, merging in SQL: rows are cleaned and validated one by
  one (a row is checked once with one regex; only rows with control
  characters or quotes take the per-field cleaning), then staged with
  executemany, BATCH rows at a time, into a TEMP table (SQLite's temp file,
  so memory stays bounded whatever the file size). After the file is read:
  rows whose email and LinkedIn URL meet no other row and no contact — found
  with a bit array of the keys seen while parsing (_SeenTwice) and an
  indexed EXISTS — are inserted with one INSERT … SELECT,
  their memberships with another; only the rest (in-file duplicates, matches
  of existing contacts: typically a few percent) go through _Batch in file
  order. An import that at least doubles the table re-creates the contacts
  indexes instead of growing them (see _Staging).
- Duplicates merge instead of doubling: a row whose email or LinkedIn URL is
  already a contact (in the database, or from an earlier row of this file)
  updates that contact. Email is matched first. Merging fills gaps only: a
  value already there is never overwritten (so two conflicting rows of one
  file cannot flip-flop, a re-import of the same file changes nothing, and no
  data is lost); missing fields, custom fields not yet present and the list
  membership are added. A LinkedIn URL or email owned by another contact is
  left where it is.
- Ids of new contacts are `max(id) before the import + row number - 1` —
  safe because the write lock is held for the whole import — so contacts
  keep the file's order and memberships are written in bulk without reading
  ids back, whichever path created the contact. A row that created no
  contact (duplicate, error, blank) leaves its id unused; ids are only keys.
Blank rows — empty lines, and rows of only delimiters (",,,," / ";;;;", which
spreadsheets leave after the data) — are ignored and not counted: they are
nobody, and reporting each as an error would bury real problems.

A leading single quote before =, + , -, @, tab or CR is dropped from every cell:
`enginy contacts export` adds it so spreadsheets do not run a lead's text as
a formula, and this makes export → import round-trip.

Counting: every non-blank data row is exactly one of `imported` (created a
contact), `updated` (changed a contact or added it to the list), `skipped`
(nothing new: an exact duplicate) or an error (rejected with its row number).
"""

from __future__ import annotations

import csv
import os
import re
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable

import msgspec
import sqlite_utils

from storage.contact_fields import (
    FIELDS, MAX_FIELD, clean_line, clean_text, normalise_email, normalise_linkedin, split_full_name, undefuse_formula,
)
from storage.contacts import ensure_list
from storage.csv_read import CsvFileError, CsvSource, RecordError
from storage.db import transaction
from storage.import_mapping import SAMPLE_ROWS, check_target, detect, resolve

BATCH = 5000
REBUILD_MIN_ROWS = 20_000
MAX_ERRORS_KEPT = 10_000
IMPORT_CACHE_KIB = 256 * 1024
_IDENTIFYING = {"email", "linkedin_url", "first_name", "last_name", "full_name"}
_EMAIL, _URL = FIELDS.index("email"), FIELDS.index("linkedin_url")
_FIRST, _LAST = FIELDS.index("first_name"), FIELDS.index("last_name")
# A contact in flight is a list: [*FIELDS values, custom dict, id, is_new].
_CUSTOM, _ID, _NEW = len(FIELDS), len(FIELDS) + 1, len(FIELDS) + 2
_COLS = ", ".join(FIELDS)

Progress = Callable[[int, int], None]
"""progress(bytes_read, bytes_total), called once per batch."""


class RowError(msgspec.Struct):
    row: int
    reason: str


class ImportResult(msgspec.Struct):
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = msgspec.field(default_factory=list)
    error_count: int = 0
    list_id: int = 0

    def report(self) -> dict[str, Any]:
        """The `--json` document: exactly imported, updated, skipped, errors."""
        return {"imported": self.imported, "updated": self.updated, "skipped": self.skipped,
                "errors": [{"row": e.row, "reason": e.reason} for e in self.errors]}


class _Columns:
    """Where each contact field sits in a record, and which columns are custom.

    `targets` is one per column (storage.import_mapping): a field, "full_name",
    "custom" or "skip". Two columns may map to one field ("Email" and "Work
    Email"): the first non-empty one wins row by row, and a differing
    non-empty value of the others is kept as a custom field under its own
    header, so nothing is lost and an empty first column never hides the
    address in the second.
    """

    def __init__(self, header: list[str], targets: list[str]) -> None:
        header = [undefuse_formula(h) for h in header]
        self.width = len(header)
        found: dict[str, list[int]] = {}
        self.custom: list[tuple[int, str]] = []
        for i, (name, target) in enumerate(zip(header, targets)):
            if target == "custom" and name:
                self.custom.append((i, name))
            elif target not in ("custom", "skip"):
                found.setdefault(target, []).append(i)
        if not _IDENTIFYING & found.keys():
            shown = ", ".join(repr(h) for h in header[:6]) + (" …" if len(header) > 6 else "")
            raise CsvFileError(
                f"no usable header row: need an Email, LinkedIn URL or name column (first row: {shown})"
            )
        # One C-level itemgetter builds the FIELDS values from a record that has
        # an extra "" appended (index `width`) standing in for absent fields.
        self.values = itemgetter(*(found.get(f, [self.width])[0] for f in FIELDS))
        self.full_name = found["full_name"][0] if "full_name" in found else None
        self.dupes = [(FIELDS.index(f) if f in FIELDS else None, idx, [header[i] or f"column {i + 1}" for i in idx])
                      for f, idx in found.items() if len(idx) > 1]


_CARE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069']")
"""A row needs the slow, per-field cleaning if it has a control or bidi character or a quote
(a defused formula); checked once on the whole row, most rows take the fast path."""


def _parse(record: list[str], cols: _Columns) -> list[Any] | str | None:
    """A contact's values [*FIELDS, custom] from one record, the reason to reject it, or None for a blank row."""
    joined = "".join(record)
    if not joined or joined.isspace():
        return None  # an empty line or a row of only delimiters is not a row
    if len(record) != cols.width:
        if len(record) > cols.width and not any(record[cols.width:]):
            record = record[: cols.width]
        else:
            return f"wrong column count: {len(record)} fields, the header has {cols.width}"
    if len(joined) > MAX_FIELD and max(map(len, record)) > MAX_FIELD:  # a short row has no long field
        i = max(range(len(record)), key=lambda k: len(record[k]))
        return f"field {i + 1} is longer than {MAX_FIELD:,} characters"
    if _CARE.search(joined) is None:
        line = text = [*map(str.strip, record), ""]
    else:
        raw = [undefuse_formula(cell) for cell in record]
        line = [*map(clean_line, raw), ""]
        text = [*map(clean_text, raw), ""]
    values: list[Any] = list(cols.values(line))
    custom = {name: text[i] for i, name in cols.custom if text[i]}
    full = line[cols.full_name] if cols.full_name is not None else ""
    for slot, indices, names in cols.dupes:
        chosen = next((line[i] for i in indices if line[i]), "")
        for i, name in zip(indices, names):
            if line[i] and line[i] != chosen:
                custom[name] = text[i]
        if slot is None:
            full = chosen
        else:
            values[slot] = chosen
    if full and not (values[_FIRST] or values[_LAST]):
        values[_FIRST], values[_LAST] = split_full_name(full)
    if values[_EMAIL]:
        email = normalise_email(values[_EMAIL])
        if email is None:
            return f"invalid email {values[_EMAIL][:80]!r}"
        values[_EMAIL] = email
    if values[_URL]:
        url = normalise_linkedin(values[_URL])
        if url is None:
            return f"invalid LinkedIn URL {values[_URL][:80]!r}"
        values[_URL] = url
    if not (values[_EMAIL] or values[_URL] or values[_FIRST] or values[_LAST]):
        return "no email, LinkedIn URL or name"
    values.append(custom)
    return values


class _Batch:
    """Merges rows that may meet another contact, in file order, one batch at a time.

    Rows are [*FIELDS, custom dict, row number]; a row that creates a contact
    gives it the id `base + row number - 1` (see the module docstring).
    """

    def __init__(self, db: sqlite_utils.Database, list_id: int, now: str, result: ImportResult, base: int) -> None:
        self.db, self.list_id, self.now, self.result, self.base = db, list_id, now, result, base

    def write(self, rows: list[list[Any]]) -> None:
        emails = [r[_EMAIL] for r in rows if r[_EMAIL]]
        urls = [r[_URL] for r in rows if r[_URL]]
        by_email: dict[str, list[Any]] = {}
        by_url: dict[str, list[Any]] = {}
        members: set[int] = set()
        if emails or urls:
            found = self.db.execute(
                f"SELECT id, {_COLS}, custom FROM contacts WHERE email IN (SELECT value FROM json_each(?))"
                f" UNION SELECT id, {_COLS}, custom FROM contacts"
                " WHERE linkedin_url IN (SELECT value FROM json_each(?))",
                [msgspec.json.encode(emails).decode(), msgspec.json.encode(urls).decode()],
            ).fetchall()
            for row in found:
                contact = [*row[1:_CUSTOM + 1], msgspec.json.decode(row[_CUSTOM + 1]), row[0], False]
                self._index(contact, by_email, by_url)
            if found:
                members = {r[0] for r in self.db.execute(
                    "SELECT contact_id FROM list_members WHERE list_id = ?"
                    " AND contact_id IN (SELECT value FROM json_each(?))",
                    [self.list_id, msgspec.json.encode([r[0] for r in found]).decode()],
                )}
        new: list[list[Any]] = []
        dirty: dict[int, list[Any]] = {}
        for values in rows:
            contact = (by_email.get(values[_EMAIL]) if values[_EMAIL] else None) or (
                by_url.get(values[_URL]) if values[_URL] else None)
            if contact is None:
                contact = [*values[:_ID], self.base + values[_ID] - 1, True]
                new.append(contact)
                self._index(contact, by_email, by_url)
                members.add(contact[_ID])
                self.result.imported += 1
                continue
            changed = self._merge(contact, values, by_email, by_url)
            cid = contact[_ID]
            if cid not in members:
                members.add(cid)
                changed = True
            if changed:
                self.result.updated += 1
                if not contact[_NEW]:
                    dirty[cid] = contact
            else:
                self.result.skipped += 1
        self._flush(new, dirty.values())

    @staticmethod
    def _index(contact: list[Any], by_email: dict, by_url: dict) -> None:
        if contact[_EMAIL]:
            by_email[contact[_EMAIL]] = contact
        if contact[_URL]:
            by_url[contact[_URL]] = contact

    def _merge(self, contact: list[Any], values: list[Any], by_email: dict, by_url: dict) -> bool:
        changed = False
        for slot in range(len(FIELDS)):
            value = values[slot]
            if not value or contact[slot]:
                continue
            if slot == _URL and by_url.get(value, contact) is not contact:
                continue  # that profile belongs to another contact
            if slot == _EMAIL and by_email.get(value, contact) is not contact:
                continue
            contact[slot] = value
            changed = True
        custom = values[_CUSTOM]
        if custom and not custom.keys() <= contact[_CUSTOM].keys():
            contact[_CUSTOM] = {**custom, **contact[_CUSTOM]}
            changed = True
        if changed:
            self._index(contact, by_email, by_url)
        return changed

    def _flush(self, new: list[list[Any]], dirty) -> None:
        now, conn = self.now, self.db.conn
        none_if_empty = (_EMAIL, _URL, FIELDS.index("phone"), FIELDS.index("timezone"), FIELDS.index("linkedin_id"))

        def columns(c: list[Any]) -> list[Any]:
            out = c[:_CUSTOM]
            for slot in none_if_empty:
                out[slot] = out[slot] or None
            out.append(msgspec.json.encode(c[_CUSTOM]).decode())
            return out

        if new:
            conn.executemany(
                f"INSERT INTO contacts (id, {_COLS}, custom, created_at, updated_at)"
                f" VALUES (?, {', '.join('?' * len(FIELDS))}, ?, ?, ?)",
                [(c[_ID], *columns(c), now, now) for c in new],
            )
        dirty = list(dirty)
        if dirty:
            conn.executemany(
                f"UPDATE contacts SET {', '.join(f + ' = ?' for f in FIELDS)}, custom = ?, updated_at = ? WHERE id = ?",
                [(*columns(c), now, c[_ID]) for c in dirty],
            )
        # Memberships: every contact this batch touched.
        conn.executemany(
            "INSERT OR IGNORE INTO list_members (list_id, contact_id, added_at) VALUES (?, ?, ?)",
            [(self.list_id, c[_ID], now) for c in (*new, *dirty)],
        )


class _SeenTwice:
    """Which emails / LinkedIn URLs may occur more than once in the file, in bounded memory.

    Each key is hashed to a slot of a bit array sized from the file (about 4
    bits per byte of CSV, at most 32 MB); a key whose slot is already set puts
    the slot in `twice`. Every real duplicate is caught; a collision only
    sends a row the exact, slower merge path, so it costs time, never
    correctness (about 1% of rows at 1M rows). This replaced two GROUP BY
    sorts of the staged keys that took ~7 s of a 1M-row import.
    """

    MIN_BITS, MAX_BITS = 1 << 16, 1 << 28

    def __init__(self, file_size: int) -> None:
        bits = self.MIN_BITS
        while bits < min(file_size * 4, self.MAX_BITS):
            bits <<= 1
        self.mask = bits - 1
        self.seen = bytearray(bits >> 3)
        self.twice: set[int] = set()

    def add(self, key: str) -> int:
        """Record `key`; returns its slot (stored with the row, to find the rows of `twice` slots)."""
        slot = hash(key) & self.mask
        byte, bit = slot >> 3, 1 << (slot & 7)
        if self.seen[byte] & bit:
            self.twice.add(slot)
        else:
            self.seen[byte] |= bit
        return slot


_STAGE_COLS = ", ".join(("rownum", *FIELDS, "custom", "email_slot", "url_slot"))
_NULL_IF_EMPTY = {"email", "linkedin_url", "phone", "timezone", "linkedin_id"}
_STAGED_AS_COLUMNS = ", ".join(f"nullif({f}, '')" if f in _NULL_IF_EMPTY else f for f in FIELDS)
_EMPTY_CUSTOM = "{}"


class _Staging:
    """Valid rows go to a TEMP table first; the merge into contacts is set-based at the end.

    A row is *simple* when its email and LinkedIn URL (those it has) occur on
    no other row of the file and on no contact: nothing can merge into it or it
    into anything, so it is a new contact and all of them are written with one
    INSERT … SELECT (and one for their memberships). The rest — in-file
    duplicates and rows matching an existing contact, usually a few percent —
    go through _Batch in file order, so merging and counting stay exactly as
    row-by-row processing would have them. The TEMP table lives in SQLite's
    temp file, not in memory; what grows with the file in memory is only the
    bit array (≤ 32 MB) and the set of slots that were seen twice.
    """

    def __init__(self, db: sqlite_utils.Database, list_id: int, now: str, result: ImportResult,
                 file_size: int) -> None:
        self.db, self.conn, self.list_id, self.now, self.result = db, db.conn, list_id, now, result
        self.base = db.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]
        self.pending: list[tuple] = []
        self.conn.execute("DROP TABLE IF EXISTS temp.import_stage")
        self.conn.execute(
            f"CREATE TEMP TABLE import_stage (rownum INTEGER PRIMARY KEY, {', '.join(FIELDS)}, custom TEXT NOT NULL,"
            " email_slot INTEGER, url_slot INTEGER)")
        self.keys = _SeenTwice(file_size)

    def add(self, number: int, values: list[Any]) -> bool:
        """Stage one parsed row; True when a batch was written (time to report progress)."""
        custom = values.pop()
        values.append(msgspec.json.encode(custom).decode() if custom else _EMPTY_CUSTOM)
        email, url = values[_EMAIL], values[_URL]
        self.pending.append((number, *values, self.keys.add(email) if email else None,
                             self.keys.add(url) if url else None))
        if len(self.pending) < BATCH:
            return False
        self._write_pending()
        return True

    def _write_pending(self) -> None:
        self.conn.executemany(f"INSERT INTO import_stage ({_STAGE_COLS}) VALUES ({', '.join('?' * (len(FIELDS) + 4))})",
                              self.pending)
        self.pending = []

    def merge(self) -> None:
        self._write_pending()
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS temp.import_complex")
        conn.execute("CREATE TEMP TABLE import_complex (rownum INTEGER PRIMARY KEY)")
        conn.execute("DROP TABLE IF EXISTS temp.import_twice")
        conn.execute("CREATE TEMP TABLE import_twice (slot INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO import_twice VALUES (?)", ((slot,) for slot in self.keys.twice))
        conn.execute("INSERT OR IGNORE INTO import_complex SELECT rownum FROM import_stage"
                     " WHERE email_slot IN (SELECT slot FROM import_twice) OR url_slot IN (SELECT slot FROM import_twice)")
        for key in ("email", "linkedin_url"):
            conn.execute(
                f"INSERT OR IGNORE INTO import_complex SELECT rownum FROM import_stage s WHERE s.{key} <> ''"
                f" AND EXISTS (SELECT 1 FROM contacts c WHERE c.{key} = s.{key})")
        batch = _Batch(self.db, self.list_id, self.now, self.result, self.base)
        rows = conn.execute(f"SELECT {', '.join(FIELDS)}, custom, rownum FROM import_stage"
                            " WHERE rownum IN (SELECT rownum FROM import_complex) ORDER BY rownum")
        while chunk := rows.fetchmany(BATCH):
            batch.write([[*r[:_CUSTOM], msgspec.json.decode(r[_CUSTOM]), r[_ID]] for r in chunk])
        simple = "FROM import_stage WHERE rownum NOT IN (SELECT rownum FROM import_complex) ORDER BY rownum"
        indexes = self._drop_indexes_if_rebuilding_is_cheaper()
        self.result.imported += conn.execute(
            f"INSERT INTO contacts (id, {_COLS}, custom, created_at, updated_at)"
            f" SELECT ? + rownum - 1, {_STAGED_AS_COLUMNS}, custom, ?, ? {simple}",
            [self.base, self.now, self.now]).rowcount
        for sql in indexes:
            conn.execute(sql)
        conn.execute(f"INSERT INTO list_members (list_id, contact_id, added_at) SELECT ?, ? + rownum - 1, ? {simple}",
                     [self.list_id, self.base, self.now])
        for table in ("import_twice", "import_complex", "import_stage"):
            conn.execute(f"DROP TABLE temp.{table}")

    def _drop_indexes_if_rebuilding_is_cheaper(self) -> list[str]:
        """Drop the contacts indexes when the new rows outnumber the old; returns the SQL to recreate them.

        Inserting n rows into an index costs n random B-tree descents (cache
        misses once the index outgrows the cache); CREATE INDEX sorts once and
        writes the pages in order (measured at 200k new rows: 1.6 s for the
        INSERT into the indexed table, against 0.65 s without indexes plus
        0.45 s for the three CREATE INDEX), but it re-sorts the existing rows
        too — so it is only done when this import at least doubles the table. The index SQL
        is read from sqlite_master, so migrations stay the only definition;
        drop and re-create are in the import's transaction, so a crash or a
        failure leaves the old indexes in place.
        """
        conn = self.conn
        existing = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
        staged = conn.execute("SELECT count(*) FROM import_stage").fetchone()[0]
        if staged < REBUILD_MIN_ROWS or staged <= existing:
            return []
        found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts'"
                             " AND sql IS NOT NULL").fetchall()
        for name, _ in found:
            conn.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in found]


class _Rejects:
    """Rejected rows to a CSV (row, reason, then the original fields), written atomically at the end."""

    def __init__(self, path: Path | None, header: list[str]) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".part") if path else None
        self.file = open(self.tmp, "w", newline="", encoding="utf-8") if self.tmp else None
        self.writer = csv.writer(self.file) if self.file else None
        if self.writer:
            self.writer.writerow(["row", "reason", *header])

    def add(self, row: int, reason: str, record: list[str]) -> None:
        if self.writer:
            self.writer.writerow([row, reason, *record])

    def finish(self, keep: bool) -> None:
        if self.file:
            self.file.close()
            if keep:
                os.replace(self.tmp, self.path)
            else:
                self.tmp.unlink(missing_ok=True)


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction so that it rolls back."""


def column_targets(source: CsvSource, mapping: dict[str | int, str] | None = None) -> list[str]:
    """Each column's target: detected from the header and first rows, then `mapping` applied."""
    targets = detect(source.header, source.sample(SAMPLE_ROWS))
    if mapping:
        by_name = {k: v for k, v in mapping.items() if isinstance(k, str)}
        for i, target in resolve(source.header, by_name).items():
            targets[i] = target
        for i, target in mapping.items():
            if isinstance(i, int) and 0 <= i < len(targets):
                targets[i] = check_target(i + 1, target)
    return targets


def import_contacts(
    db: sqlite_utils.Database,
    path: Path | str,
    *,
    list_name: str,
    now: datetime,
    created_by: str = "",
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    mapping: dict[str | int, str] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import `path` into contacts and the list `list_name` (created if missing).

    Columns are mapped as storage.import_mapping detects them; `mapping`
    changes some: {column: target}, the column by header text, 1-based number
    as text, or 0-based index as an int (MappingError when one names no
    column or no target). `dry_run` does the whole import — every check,
    every merge, the same counts and errors — and rolls it back, so the
    app can show what an import would do before it is committed.

    Raises CsvFileError when the file is unusable as a whole (nothing is written);
    rows that are bad on their own are reported in the result (and written to
    `rejects_path` if given) while the good rows are imported.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stamp = now.astimezone(timezone.utc).isoformat()
    result = ImportResult()
    with CsvSource(Path(path)) as source:
        cols = _Columns(source.header, column_targets(source, mapping))
        rejects = _Rejects(rejects_path, source.header)
        ok = False
        cache = db.execute("PRAGMA cache_size").fetchone()[0]
        temp_cache = db.execute("PRAGMA temp.cache_size").fetchone()[0]
        # The contacts indexes grow by random inserts; with SQLite's 2 MB
        # default cache a big import re-reads index pages constantly (measured:
        # 64 MB → 256 MB cache cut a 500k-row import by 20%). The TEMP staging
        # table has a cache of its own, and at 2 MB it is written out and read
        # back through the temp file. Pages are only allocated as needed, so
        # small imports do not pay; both are restored afterwards.
        db.execute(f"PRAGMA cache_size = {min(cache, -IMPORT_CACHE_KIB)}")
        db.execute(f"PRAGMA temp.cache_size = {min(temp_cache, -IMPORT_CACHE_KIB)}")
        try:
            with transaction(db):
                result.list_id = ensure_list(db, list_name, now=now, created_by=created_by)
                staging = _Staging(db, result.list_id, stamp, result, source.size)
                for number, record in source.records():
                    parsed = str(record) if isinstance(record, RecordError) else _parse(record, cols)
                    if parsed is None:
                        continue
                    if isinstance(parsed, str):
                        result.error_count += 1
                        if len(result.errors) < MAX_ERRORS_KEPT:
                            result.errors.append(RowError(number, parsed))
                        rejects.add(number, parsed, [record.text] if isinstance(record, RecordError) else record)
                        continue
                    if staging.add(number, parsed) and progress:
                        progress(source.position(), source.size)
                staging.merge()
                if dry_run:
                    raise _DryRun
            ok = True
        except _DryRun:
            ok = True
        finally:
            db.execute(f"PRAGMA cache_size = {cache}")
            db.execute(f"PRAGMA temp.cache_size = {temp_cache}")
            rejects.finish(keep=ok)
    if progress:
        progress(source.size, source.size)
    return result


class ColumnPreview(msgspec.Struct):
    name: str
    target: str
    samples: list[str]


class FilePreview(msgspec.Struct):
    """What the mapping step shows before anything is imported."""

    columns: list[ColumnPreview]
    rows: int
    encoding: str
    delimiter: str
    header_row: int


def preview_file(path: Path | str, mapping: dict[str | int, str] | None = None, samples: int = 3) -> FilePreview:
    """The file's columns as detected (target and first non-empty values) and its count of non-blank rows.

    Reads the whole file once to count rows (about a second per million);
    raises CsvFileError or MappingError as the import would.
    """
    with CsvSource(Path(path)) as source:
        targets = column_targets(source, mapping)
        first = source.sample(SAMPLE_ROWS)
        columns = []
        for i, (name, target) in enumerate(zip(source.header, targets)):
            values = [r[i].strip() for r in first if i < len(r) and r[i].strip()][:samples]
            columns.append(ColumnPreview(name=name or f"column {i + 1}", target=target, samples=values))
        rows = sum(1 for _, record in source.records() if isinstance(record, RecordError) or "".join(record).strip())
        return FilePreview(columns=columns, rows=rows, encoding=source.encoding, delimiter=source.delimiter,
                           header_row=source.header_row)
