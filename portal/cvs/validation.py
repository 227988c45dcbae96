"""What an uploaded CV really is, decided from its bytes and never from its name or the browser's say-so."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import docx
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from portal.errors import DomainError

ACCEPTED = "PDF or Word (.docx)"
PDF_MEDIA_TYPE = "application/pdf"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

MAX_PDF_PAGES = 50
MAX_ZIP_ENTRIES = 1000
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_TABLE_DEPTH = 5

PDF_SIGNATURE = b"%PDF-"
ZIP_SIGNATURE = b"PK\x03\x04"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, among others

EMPTY = f"The file is empty. Upload your CV as a {ACCEPTED} file."
NOT_ACCEPTED = "Only PDF and Word (.docx) files are accepted."
OLD_WORD = (
    f"{NOT_ACCEPTED} This looks like an older Word (.doc) file: open it in Word and save it as .docx, "
    "or export it as PDF."
)
PDF_ENCRYPTED = "This PDF is password-protected. Remove the password and upload it again."
PDF_DAMAGED = "This PDF could not be opened: it may be damaged. Export it again and upload the new file."
PDF_NO_PAGES = "This PDF has no pages. Export your CV again and upload the new file."
DOCX_DAMAGED = (
    "This Word file could not be opened: it may be damaged. Save it again as .docx, or export it as PDF, "
    "and upload the new file."
)
DOCX_NOT_WORD = f"This zip file is not a Word document. Upload your CV as a {ACCEPTED} file."
DOCX_TOO_MANY_PARTS = (
    f"This Word file is made of more than {MAX_ZIP_ENTRIES:,} parts, far more than a CV needs. "
    "Save it again as .docx, or export it as PDF, and upload the new file."
)
DOCX_TOO_LARGE = (
    f"This Word file unpacks to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB, far more than a CV needs. "
    "Remove large images, or export it as PDF, and upload the new file."
)
DOCX_UNSAFE_NAMES = (
    "This Word file contains parts with unsafe names, so we cannot accept it. "
    "Save your CV again as .docx, or export it as PDF, and upload the new file."
)

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
# Control characters other than tab and newline: PostgreSQL refuses NUL in text, and none of them is readable.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class UploadRejected(DomainError):
    """The upload is not a CV we can accept; the message is for the person uploading it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class InspectedCV:
    media_type: str
    extension: str
    page_count: int | None
    text: str
    word_count: int
    links: tuple[str, ...] = ()  # hyperlink targets that need not appear in the text ("GitHub" linked to a URL)


def inspect_upload(data: bytes) -> InspectedCV:
    """Identify a PDF or .docx by its content, check it is safe to open, and extract its text and links.

    Raises UploadRejected, with a message for the user, for anything else or anything damaged or unsafe.
    """
    if not data:
        raise UploadRejected(EMPTY)
    if data.startswith(PDF_SIGNATURE):
        return _inspect_pdf(data)
    if data.startswith(ZIP_SIGNATURE):
        return _inspect_docx(data)
    if data.startswith(OLE2_SIGNATURE):
        raise UploadRejected(OLD_WORD)
    raise UploadRejected(NOT_ACCEPTED)


def _clean(text: str) -> str:
    """Extracted text with line endings unified and control characters (NUL above all) removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARACTERS.sub("", text).strip()


def count_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _inspect_pdf(data: bytes) -> InspectedCV:
    """Raises UploadRejected for a PDF that is damaged, locked with a password, or far too long for a CV."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise UploadRejected(PDF_ENCRYPTED)
        page_count = len(reader.pages)
    except UploadRejected:
        raise
    except Exception as error:  # pypdf raises many kinds of error on malformed input
        raise UploadRejected(PDF_DAMAGED) from error
    if page_count == 0:
        raise UploadRejected(PDF_NO_PAGES)
    if page_count > MAX_PDF_PAGES:
        raise UploadRejected(f"A CV should be a few pages; this PDF has {page_count}. Upload a shorter version.")

    texts: list[str] = []
    links: list[str] = []
    for index in range(page_count):
        try:
            page = reader.pages[index]
        except Exception:  # noqa: S112 - a broken page object: keep the pages that can be read
            continue
        texts.append(_page_text(page))
        links.extend(_page_links(page))
    text = _clean("\n".join(texts))
    return InspectedCV(PDF_MEDIA_TYPE, "pdf", page_count, text, count_words(text), _unique(links))


def _opens_without_password(reader: PdfReader) -> bool:
    """True for PDFs with only an owner password (restrictions), which every viewer opens without asking."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional cryptography package: treat as locked
        return False


def _page_text(page: Any) -> str:
    try:
        return page.extract_text() or ""
    except Exception:  # one unreadable page should not lose the rest of the CV
        return ""


def _page_links(page: Any) -> list[str]:
    """The targets of the page's URI link annotations; a malformed annotation list gives what was read so far."""
    links: list[str] = []
    try:
        annotations = page.get("/Annots")
        for reference in annotations.get_object() if annotations is not None else []:
            annotation = reference.get_object()
            if not isinstance(annotation, DictionaryObject) or annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            if isinstance(action, DictionaryObject) and action.get("/S") == "/URI":
                uri = action.get("/URI")
                uri = uri.get_object() if uri is not None else None
                if isinstance(uri, bytes):
                    uri = uri.decode("latin-1")
                if isinstance(uri, str):
                    links.append(uri)
    except Exception:  # noqa: S110 - links are a bonus; a broken annotation must not refuse the CV
        pass
    return links


def _inspect_docx(data: bytes) -> InspectedCV:
    """Raises UploadRejected for a zip that is damaged, a zip bomb, has unsafe names, or is not a Word document."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise UploadRejected(DOCX_DAMAGED) from error
    with archive:
        # Only the central directory has been read so far: judge the archive before opening any member.
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise UploadRejected(DOCX_TOO_MANY_PARTS)
        if sum(entry.file_size for entry in entries) > MAX_UNZIPPED_BYTES:
            raise UploadRejected(DOCX_TOO_LARGE)
        if any(_is_unsafe_name(entry.filename) for entry in entries):
            raise UploadRejected(DOCX_UNSAFE_NAMES)
        if "word/document.xml" not in {entry.filename for entry in entries}:
            raise UploadRejected(DOCX_NOT_WORD)

    try:
        document = docx.Document(BytesIO(data))
        texts = list(_block_texts(document))
        links = [link for paragraph in _paragraphs(document) for link in _paragraph_links(paragraph)]
    except Exception as error:  # python-docx and lxml raise many kinds of error on malformed input
        raise UploadRejected(DOCX_DAMAGED) from error
    text = _clean("\n".join(texts))
    return InspectedCV(DOCX_MEDIA_TYPE, "docx", None, text, count_words(text), _unique(links))


def _is_unsafe_name(name: str) -> bool:
    """Absolute (/x, \\x), drive-lettered (C:) or climbing (..) entry names, which no Word file contains."""
    if name.startswith(("/", "\\")) or _DRIVE_LETTER.match(name) or "\x00" in name:
        return True
    return ".." in re.split(r"[/\\]", name)


def _block_texts(container: WordDocument | Any, depth: int = 0) -> Iterator[str]:
    """Paragraph texts and table cell texts in document order, including tables inside cells."""
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table) and depth < MAX_TABLE_DEPTH:
            for cell in _unique_cells(block):
                yield from _block_texts(cell, depth + 1)


def _paragraphs(container: WordDocument | Any, depth: int = 0) -> Iterator[Paragraph]:
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block
        elif isinstance(block, Table) and depth < MAX_TABLE_DEPTH:
            for cell in _unique_cells(block):
                yield from _paragraphs(cell, depth + 1)


def _unique_cells(table: Table) -> Iterator[Any]:
    """Each cell once, although python-docx repeats a merged cell in every grid position it spans."""
    seen: set[Any] = set()  # the <w:tc> elements themselves, so identity stays stable while we hold them
    for row in table.rows:
        for cell in row.cells:
            if cell._tc not in seen:
                seen.add(cell._tc)
                yield cell


def _paragraph_links(paragraph: Paragraph) -> Iterator[str]:
    for hyperlink in paragraph.hyperlinks:
        if hyperlink.address:
            yield hyperlink.address


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
