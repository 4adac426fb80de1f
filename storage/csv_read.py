"""Reading an arbitrary CSV someone exported: encoding, delimiter, header.

Why each step:
- Encoding: a BOM decides (UTF-8, UTF-16, UTF-32); otherwise the whole file
  is checked as UTF-8 in a streaming pass (C speed, bounded memory) because a
  Latin-1 byte can sit on row 900,000 and a guess from the first kilobytes
  would then fail half-way through an import. Not UTF-8 → cp1252 (what Excel
  writes on Windows), or Latin-1 when cp1252 has no character for a byte.
- Binary: a NUL byte in the first 64 KiB of a non-UTF-16 file means it is not
  text at all (zip, xlsx, images); that is one clear error, not a thousand
  bad rows.
- Delimiter: each of , ; tab | is tried on the first records; the one that
  gives the header the most columns with the most rows of the same width wins
  (Excel in many European locales writes ';'). Leading one-field records are
  left out of the vote: they are a preamble, not the table.
- Preamble: some exports put lines of text before the header. LinkedIn's own
  Connections.csv starts with "Notes:", a quoted paragraph about missing
  email addresses and a blank line. One-field and blank records before the
  first record of two or more fields (within the first PREAMBLE_MAX records)
  are skipped; `header_row` says where the header was,
  so row numbers still match what a spreadsheet shows.
- Fields are capped at 10 MB while parsing (an unclosed quote would otherwise
  swallow the rest of the file into memory); the 10,000-character limit per
  field is a per-row rejection, applied by the importer.
- An unclosed quote costs one row, not the rest of the file: see `CsvSource`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from pathlib import Path
from typing import Iterator

PARSE_LIMIT = 10 * 1024 * 1024
_SAMPLE = 64 * 1024
_DELIMITERS = ",;\t|"
PREAMBLE_MAX = 10


class CsvFileError(Exception):
    """The file cannot be read as a CSV at all; nothing is imported."""


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(_SAMPLE)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head:
            # UTF-16 without a BOM: ASCII text has every other byte zero.
            even, odd = head[0::2].count(0), head[1::2].count(0)
            if odd > len(head) * 0.4 and even == 0:
                return "utf-16-le"
            if even > len(head) * 0.4 and odd == 0:
                return "utf-16-be"
            raise CsvFileError("not a CSV file (binary data)")
        for encoding in ("utf-8", "cp1252"):
            f.seek(0)
            if _decodes(f, encoding):
                return encoding
    return "latin-1"


def _decodes(f: io.BufferedReader, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(sample: str) -> str:
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        try:
            records = [r for r in _first_records(sample, delimiter) if r]
        except csv.Error:
            continue
        while records and len(records[0]) < 2:
            records.pop(0)  # a preamble line (or a one-column file, which any delimiter reads alike)
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        same = sum(1 for r in records if len(r) == width) / len(records)
        score = (same, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_records(sample: str, delimiter: str, n: int = 50) -> list[list[str]]:
    # The sample may end mid-record; drop its last (possibly partial) line.
    cut = sample.rfind("\n")
    text = sample[:cut] if cut > 0 else sample
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    for record in reader:
        records.append(record)
        if len(records) >= n:
            break
    return records


def _header_index(head: list[list[str]]) -> int | None:
    """Which of the first records is the header.

    The first record of two or more fields, when only blank or one-field
    records (a preamble such as LinkedIn's "Notes:") come before it;
    otherwise the first non-blank record (a one-column file).
    """
    for i, record in enumerate(head):
        if len(record) >= 2:
            return i
    return next((i for i, r in enumerate(head) if any(c.strip() for c in r)), None)


class RecordError(str):
    """A record that cannot be read (an unclosed quote, a field over the parse limit): the
    reason, said at the line it starts on. `CsvSource.records()` yields it in place of the
    fields, so the importer reports it as that row's error and every other row still counts."""

    text = ""  # the skipped line as it is in the file (for the rejects file)


class _Lines:
    """The file's physical lines for the CSV parser, remembering those of the record being read,
    so that a broken record can be given back: its first line is dropped, the others re-read."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._readline = text.readline
        self._replay: list[str] = []
        self.taken: list[str] = []
        self.line = 0  # the physical line last handed out (1-based)
        self.ran_out = False  # the parser asked for a line past the end (inside a quote)

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._replay.pop() if self._replay else self._readline()
        if not line:
            self.ran_out = True
            raise StopIteration
        self.line += 1
        self.taken.append(line)
        return line

    def take(self) -> list[str]:
        taken, self.taken, self.ran_out = self.taken, [], False
        return taken

    def forget(self) -> None:
        """The record read was whole: its lines are not needed any more."""
        self.taken.clear()

    def give_back(self, lines: list[str]) -> None:
        self._replay.extend(reversed(lines))
        self.line -= len(lines)


class CsvSource:
    """An opened CSV: `header`, then `records()` yields (row number, fields).

    Row numbers count records as a spreadsheet shows them: the header is row 1
    (or the row after a preamble, `header_row`), so the first data row is
    row 2 (a quoted newline does not shift them).
    `position()` is the byte offset read so far, for a progress bar.

    An unclosed quote does not swallow the rest of the file: a record that runs over
    several lines and then has the wrong number of fields, is not one record to a
    strict parser, or runs into the end of the file, is yielded as one `RecordError`
    naming the line where it starts, and parsing starts again on the line after that
    one — so the rows after it are read (a real quoted line break is kept). Rows read
    inside the span also mark it (`_row_inside`). What no reader can tell from
    a note: a stray quote whose span ends on the very next line, at the opening quote of
    a real multi-line field; that row is then read as part of the field before it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise CsvFileError(f"no such file: {self.path}")
        self.size = self.path.stat().st_size
        if self.size == 0:
            raise CsvFileError("the file is empty")
        self.encoding = detect_encoding(self.path)
        self._raw = open(self.path, "rb")
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
        sample = self._text.read(_SAMPLE)
        self._text.seek(0)
        if "\x00" in sample:
            self.close()
            raise CsvFileError("not a CSV file (binary data)")
        self.delimiter = sniff_delimiter(sample)
        csv.field_size_limit(PARSE_LIMIT)
        self._lines = _Lines(self._text)
        self._reader = csv.reader(self._lines, delimiter=self.delimiter)
        head: list[list[str]] = []
        try:
            for record in self._reader:  # up to the header: the first record of two or more fields
                self._lines.forget()
                head.append(record)
                if len(record) >= 2 or len(head) >= PREAMBLE_MAX:
                    break
        except csv.Error as exc:
            self.close()
            raise CsvFileError(f"row {len(head) + 1}: {exc}") from None
        at = _header_index(head)
        if at is None:
            self.close()
            raise CsvFileError("the file is empty")
        self.header_row = at + 1
        self.header = [h.strip().strip('"').strip() for h in head[at]]
        self._pending: list[list[str] | RecordError] = list(head[at + 1:])
        self._scan = self._scanned()

    def _scanned(self) -> Iterator[list[str] | RecordError]:
        """The data records after the header, each checked for a quote that swallowed lines."""
        width = len(self.header)
        while True:
            start = self._lines.line + 1
            try:
                record = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield self._recover(start, f"{exc} (an unclosed quote?)")
                continue
            lines = self._lines.taken
            if len(lines) == 1:
                self._lines.forget()
                yield record
            elif self._lines.ran_out:
                yield self._recover(start, "a quote opened here is never closed")
            elif len(record) != width or not self._strictly_one(lines) or self._row_inside(lines, width):
                yield self._recover(start, f"a quote opened here runs over {len(lines)} lines into a record "
                                           f"that is not one ({len(record)} fields, the header has {width})")
            else:
                self._lines.forget()
                yield record

    def _row_inside(self, lines: list[str], width: int) -> bool:
        """Signs that a stray quote swallowed rows: a line strictly inside the quoted span that reads
        as a whole row (as many fields as the header, no quote), or a last line whose quotes are
        even (the span was closed by the opening quote of a row's own quoted field)."""
        if lines[-1].count('"') % 2 == 0:
            return True  # the closing quote plus pairs make an odd count: an even one borrowed a row's own quote
        return width > 1 and any('"' not in line and line.count(self.delimiter) == width - 1 for line in lines[1:-1])

    def _strictly_one(self, lines: list[str]) -> bool:
        """A record over several lines is real when a strict parser reads it as one: each closing
        quote followed by a delimiter or the line's end. A stray quote on a later line that happens
        to close the stray quote of an earlier one ("b,B / c,C / "d,D) is followed by text instead."""
        try:
            return len(list(csv.reader(lines, delimiter=self.delimiter, strict=True))) == 1
        except csv.Error:
            return False

    def _recover(self, start: int, why: str) -> RecordError:
        """Give back the lines of a broken record but its first: parsing resumes on the next line."""
        taken = self._lines.take()
        self._lines.give_back(taken[1:])
        error = RecordError(f"line {start}: {why}; that line was skipped and the lines after it were read again")
        error.text = taken[0].rstrip("\r\n")[:PARSE_LIMIT]
        return error

    def sample(self, n: int) -> list[list[str]]:
        """The first `n` non-blank data records, read ahead without consuming them (for detecting columns)."""
        while sum(1 for r in self._pending if not isinstance(r, RecordError) and any(r)) < n:
            record = next(self._scan, None)
            if record is None:
                break
            self._pending.append(record)
        return [r for r in self._pending if not isinstance(r, RecordError) and any(r)][:n]

    def records(self) -> Iterator[tuple[int, list[str] | RecordError]]:
        """(row number, fields), or (row number, RecordError) for a record that cannot be read."""
        yield from enumerate(itertools.chain(self._pending, self._scan), start=self.header_row + 1)

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
