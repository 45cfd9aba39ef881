"""What an uploaded file really is, and whether its structure is safe to keep and serve.

The type comes from the bytes (the `filetype` library's signatures; CSV, which has none, is
parsed), never from the name. Each accepted format is then checked for structure: a PDF must
parse (pypdf) and carry no active content (JavaScript, launch actions, embedded files, XFA,
SVG/HTML); a spreadsheet (xlsx, a zip) must stay within bounds when decompressed and hold
no macros; a CSV must parse as rows of fields and not look like markup or script. Documents
are downloadable, so what is stored must be what it says it is.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import filetype

from linkstar.core.kernel.errors import InvalidInput

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"

MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
# markers of active content inside a PDF (names are case-sensitive in PDF; markup is not)
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|EmbeddedFiles|XFA|RichMedia)\b")
_MARKUP = re.compile(rb"<\s*(svg|html|script|iframe|object|embed|!doctype|\?xml)\b", re.I)
_CSV_MARKUP = re.compile(r"<\s*/?\s*[a-z!?][^>]*>|javascript:", re.I)


class FileRefused(InvalidInput):
    """The file is not what an accepted format must be."""

    code = "FILE_CONTENT_REFUSED"


def media_type_of(data: bytes) -> str | None:
    """The media type the bytes are, by signature; CSV when they parse as one; else None."""
    kind = filetype.guess(data)
    if kind is not None:
        if kind.mime == "application/zip" or kind.mime == XLSX:
            return XLSX if _looks_like_xlsx(data) else kind.mime
        return kind.mime
    if data.startswith(b"%PDF-"):
        return PDF
    return CSV if _decodes_as_text(data) else None


def _decodes_as_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def check_structure(media_type: str, data: bytes) -> None:
    """Refuse a file whose structure does not hold for its type (FILE_CONTENT_REFUSED)."""
    if media_type == PDF:
        _check_pdf(data)
    elif media_type == XLSX:
        _check_xlsx(data)
    elif media_type == CSV:
        _check_csv(data)


def _check_pdf(data: bytes) -> None:
    found = _PDF_ACTIVE.search(data) or _MARKUP.search(data)
    if found:
        raise FileRefused(
            f"the PDF carries active content ({found.group(0).decode('latin-1')})",
            suggestion="print it to a plain PDF and upload that",
        )
    from pypdf import PdfReader  # imported on the first PDF, not at start-up
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise FileRefused(f"the file starts like a PDF but does not parse: {exc}") from None
    if pages == 0:
        raise FileRefused("the PDF has no pages")


def _check_xlsx(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise FileRefused(f"the spreadsheet has more than {MAX_ZIP_ENTRIES} parts")
            total = sum(e.file_size for e in entries)
            if total > MAX_UNZIPPED_BYTES:
                raise FileRefused(
                    f"the spreadsheet expands to {total} bytes (at most {MAX_UNZIPPED_BYTES})"
                )
            if any(e.filename.lower().endswith("vbaproject.bin") for e in entries):
                raise FileRefused("the spreadsheet carries macros; save it as plain .xlsx")
            # the declared sizes can lie: read with a budget, never past the limit
            budget = MAX_UNZIPPED_BYTES
            for entry in entries:
                with archive.open(entry) as member:
                    while chunk := member.read(64 * 1024):
                        budget -= len(chunk)
                        if budget < 0:
                            raise FileRefused("the spreadsheet expands beyond the limit")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise FileRefused(f"the spreadsheet is not a valid xlsx archive: {exc}") from None


def _check_csv(data: bytes) -> None:
    text = data.decode("utf-8-sig")
    if _CSV_MARKUP.search(text):
        raise FileRefused("the file looks like markup or script, not CSV data")
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    except csv.Error as exc:
        raise FileRefused(f"the file does not parse as CSV: {exc}") from None
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        raise FileRefused("a CSV needs a header and at least one row of two or more fields")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise FileRefused("every CSV row needs as many fields as the header")
