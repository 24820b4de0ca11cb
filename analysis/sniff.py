"""Sniffing a delimited text file: its compression, encoding and delimiter, before DuckDB reads it."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class TextDialect:
    """How a delimited file is written."""

    encoding: str      # a Python codec name: utf-8, utf-8-sig, gb18030, utf-16, latin-1
    delimiter: str
    compressed: bool
    header: tuple[str, ...] = field(default=(), compare=False)  # the header row as written


def is_gzip(path: str | os.PathLike) -> bool:
    """True when the file starts with gzip's magic bytes (whatever its extension says)."""
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def read_head(path: str | os.PathLike, size: int = SAMPLE_BYTES) -> bytes:
    """The first `size` bytes of the file's content, decompressed when gzipped."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:
        return fh.read(size)


def detect_encoding(head: bytes, utf8_possible: bool = True) -> str:
    """The encoding of a text sample: BOMs first, then UTF-16 by NUL bytes, UTF-8, GB18030, cp1252, Latin-1.

    `utf8_possible=False` when DuckDB already found bytes further on that are not UTF-8.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head:
        # ASCII text in UTF-16 without a BOM has a NUL in every other byte.
        even_nuls = head[0::2].count(0) / max(1, len(head[0::2]))
        odd_nuls = head[1::2].count(0) / max(1, len(head[1::2]))
        if odd_nuls > 0.3 and even_nuls < 0.05:
            return "utf-16-le"
        if even_nuls > 0.3 and odd_nuls < 0.05:
            return "utf-16-be"
    if utf8_possible and _decodes(head, "utf-8"):
        return "utf-8"
    if _decodes(head, "gb18030") and _looks_chinese(head.decode("gb18030", errors="ignore")):
        return "gb18030"
    # Windows exports are cp1252 (Latin-1 plus € – “ ” in 0x80–0x9F); Latin-1 decodes any byte at all.
    if _decodes(head, "cp1252"):
        return "cp1252"
    return "latin-1"


def _decodes(head: bytes, encoding: str) -> bool:
    """True when the sample decodes, allowing a multi-byte character cut off at its end."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _looks_chinese(text: str) -> bool:
    """True when the non-ASCII characters are mostly common Chinese ones.

    Latin-1 text such as 'Müller' also decodes as GB18030, but into rare characters; real
    Chinese text is dominated by the 6,763 characters of GB2312 and full-width punctuation.
    """
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return False
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(wide) >= 0.9


def read_around(path: str | os.PathLike, position: int, size: int = 1 << 16) -> bytes:
    """`size` bytes of the (decompressed) content starting a little before `position`."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:
        fh.seek(max(0, position - size // 4))
        return fh.read(size)


def count_lines(path: str | os.PathLike) -> int:
    """Lines of a (possibly gzipped) text file; a last line without a newline counts."""
    opener = gzip.open if is_gzip(path) else open
    lines, last = 0, b"\n"
    with opener(path, "rb") as fh:
        while chunk := fh.read(SAMPLE_BYTES * 8):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last not in (b"\n", b""))


def scan_records(path: str | os.PathLike, expected_lines: int,
                 lines: int | None = None) -> tuple[list[int], int | None]:
    """(empty rows, row of an unclosed quote) of a UTF-8 CSV: what DuckDB skips or swallows silently.

    Row numbers count the header as 1. When the file has exactly `expected_lines` lines (header +
    rows read + rows rejected), nothing was skipped, and counting newlines (`lines`, when counted
    already) is all it costs.
    Otherwise the records are walked, keeping newlines inside quoted fields within their record;
    a quote still open at the end of the file swallowed every row after the one where it opened.
    """
    if lines is None:
        lines = count_lines(path)
    if lines == expected_lines:
        return [], None
    opener = gzip.open if is_gzip(path) else open
    blanks: list[int] = []
    record, in_quotes, last_filled, opened_at = 1, False, 1, None
    with opener(path, "rb") as fh:
        for line in fh:
            stripped = line.rstrip(b"\r\n")
            if not in_quotes and not stripped:
                blanks.append(record)
            elif not in_quotes:
                last_filled = record
                opened_at = record
            in_quotes ^= stripped.count(b'"') % 2 == 1
            if not in_quotes:
                record += 1
    # Empty lines after the last row are not rows.
    return [b for b in blanks if b < last_filled], (opened_at if in_quotes else None)


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (>1) of fields most consistently."""
    lines = text.splitlines(keepends=True)[:200]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line in half
    sample = "".join(lines)
    best, best_score = ",", (-1, 0)
    for delim in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"'))
        except csv.Error:
            continue
        rows = [r for r in rows if r]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for r in rows if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def sniff(path: str | os.PathLike) -> TextDialect:
    """Compression, encoding and delimiter of a delimited text file."""
    head = read_head(path)
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="ignore")
    if Path(path).suffix.lower() == ".tsv" or Path(str(path).removesuffix(".gz")).suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        delimiter = detect_delimiter(text)
    return TextDialect(encoding=encoding, delimiter=delimiter, compressed=is_gzip(path),
                       header=read_header(text, delimiter))


def read_header(text: str, delimiter: str) -> tuple[str, ...]:
    """The first record of the text (quotes and embedded newlines handled), without a BOM."""
    try:
        row = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter, quotechar='"'), [])
    except csv.Error:
        return ()
    return tuple(row)


def utf8_copy(path: str | os.PathLike, dialect: TextDialect) -> Path | None:
    """A temporary UTF-8 copy of a file DuckDB cannot read as is (other encodings); None when not needed.

    DuckDB reads UTF-8 (with or without BOM, gzipped or not) itself; its extra encodings need an
    extension download, which a fresh machine may not have, so other encodings are transcoded in
    1 MB chunks (no per-row Python).
    """
    if dialect.encoding in ("utf-8", "utf-8-sig"):
        return None
    fd, name = tempfile.mkstemp(prefix="procdiag-", suffix=".csv")
    opener = gzip.open if dialect.compressed else open
    with opener(path, "rb") as src, os.fdopen(fd, "wb") as dst:
        reader = codecs.getreader(dialect.encoding)(src, errors="strict")
        writer = codecs.getwriter("utf-8")(dst)
        shutil.copyfileobj(reader, writer, length=SAMPLE_BYTES)
    return Path(name)
