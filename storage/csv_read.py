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


class CsvSource:
    """An opened CSV: `header`, then `records()` yields (row number, fields).

    Row numbers count records as a spreadsheet shows them: the header is row 1
    (or the row after a preamble, `header_row`), so the first data row is
    row 2 (a quoted newline does not shift them).
    `position()` is the byte offset read so far, for a progress bar.
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
        self._reader = csv.reader(self._text, delimiter=self.delimiter)
        head: list[list[str]] = []
        try:
            for record in self._reader:  # up to the header: the first record of two or more fields
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
        self._pending = head[at + 1:]
        self._deferred: csv.Error | None = None

    def sample(self, n: int) -> list[list[str]]:
        """The first `n` non-blank data records, read ahead without consuming them (for detecting columns).

        A parse error found while reading ahead is kept and raised by records() at its row.
        """
        try:
            while sum(1 for r in self._pending if any(r)) < n:
                record = next(self._reader, None)
                if record is None:
                    break
                self._pending.append(record)
        except csv.Error as exc:
            self._deferred = exc
        return [r for r in self._pending if any(r)][:n]

    def records(self) -> Iterator[tuple[int, list[str]]]:
        number = self.header_row
        try:
            rest = iter(()) if self._deferred else self._reader
            for number, record in enumerate(itertools.chain(self._pending, rest), start=self.header_row + 1):
                yield number, record
            if self._deferred:
                raise self._deferred
        except csv.Error as exc:
            raise CsvFileError(f"row {number + 1}: {exc} (an unclosed quote?)") from None

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
