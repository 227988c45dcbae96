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
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

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

PDF_SCRIPT = (
    "This PDF contains JavaScript, which can run when the file is opened, so we cannot accept it. "
    "Export or print your CV to PDF again from your word processor and upload the new file."
)
PDF_LAUNCH = (
    "This PDF contains an action that starts another program when it is opened, so we cannot accept it. "
    "Export or print your CV to PDF again from your word processor and upload the new file."
)
PDF_EMBEDDED_FILES = (
    "This PDF has other files attached inside it, so we cannot accept it. "
    "Remove the attachments, or export your CV to PDF again, and upload the new file."
)
PDF_RICH_MEDIA = (
    "This PDF contains embedded media (video, sound or Flash), so we cannot accept it. "
    "Export your CV to PDF again without the media and upload the new file."
)
DOCX_MACROS = (
    "This Word file contains macros, so we cannot accept it. Save it as a plain Word Document (.docx) rather "
    "than a macro-enabled one (.docm), or export it as PDF, and upload the new file."
)
DOCX_REMOTE_TEMPLATE = (
    "This Word file loads its template from the internet when it is opened, so we cannot accept it. "
    "Export your CV as PDF, or save it again based on a normal template, and upload the new file."
)
DOCX_EXTERNAL_CONTENT = (
    "This Word file pulls in content from outside the document (a linked file, image or object) when it is "
    "opened, so we cannot accept it. Export your CV as PDF, or embed the content instead of linking it, "
    "and upload the new file."
)

# PDF names (after #xx escapes are decoded) that make a file do something when it is opened, or carry other files.
_PDF_ACTIVE_NAMES = {
    b"JS": PDF_SCRIPT,
    b"JavaScript": PDF_SCRIPT,
    b"Launch": PDF_LAUNCH,
    b"EmbeddedFile": PDF_EMBEDDED_FILES,
    b"EmbeddedFiles": PDF_EMBEDDED_FILES,
    b"RichMedia": PDF_RICH_MEDIA,
}
MAX_PDF_OBJECTS = 100_000  # far more than any CV; the structural scan stops there (the raw scan still covers all)
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\](){}%]*)")
_PDF_STREAM_BODY = re.compile(rb"(?<!end)stream\r?\n.*?endstream", re.DOTALL)
_PDF_STRING_SYNTAX = re.compile(rb"[()\\]")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Word parts that only a macro-enabled file has, and the content types that declare macros.
_MACRO_PART = re.compile(r"(^|/)vba(Project\.bin|Data\.xml)$", re.IGNORECASE)
_MACRO_CONTENT_TYPE = re.compile(rb"macroEnabled|vbaProject", re.IGNORECASE)
RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# The one kind of external relationship a CV needs: a hyperlink, which Word only follows when clicked.
HYPERLINK_TYPE_SUFFIX = "/hyperlink"
ATTACHED_TEMPLATE_TYPE_SUFFIX = "/attachedTemplate"

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
    refusal = _pdf_active_content(data, reader)
    if refusal:
        raise UploadRejected(refusal)

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


def _pdf_active_content(data: bytes, reader: PdfReader) -> str | None:
    """Why the PDF is refused for scripts, launch actions, attached files or media, or None.

    Two looks, so that neither hiding place works: the raw bytes outside strings and streams (names written as
    `/J#61vaScript` are decoded first), and every object pypdf can read, which includes those packed inside
    compressed object streams. Text in content streams is never read, so a CV listing "HTML/JavaScript" passes.
    """
    for name in _raw_pdf_names(data):
        if name in _PDF_ACTIVE_NAMES:
            return _PDF_ACTIVE_NAMES[name]
    for name in _object_names(reader):
        if name in _PDF_ACTIVE_NAMES:
            return _PDF_ACTIVE_NAMES[name]
    return None


def _raw_pdf_names(data: bytes) -> Iterator[bytes]:
    """Names in the file's own syntax: stream bodies and literal strings skipped, #xx escapes decoded."""
    for chunk in _PDF_STREAM_BODY.split(data):
        for name in _PDF_NAME.findall(_without_literal_strings(chunk)):
            yield _PDF_HEX_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), name)


def _without_literal_strings(chunk: bytes) -> bytes:
    """`chunk` with every (literal string) removed, minding nested parentheses and backslash escapes."""
    if b"(" not in chunk:
        return chunk
    kept: list[bytes] = []
    depth = 0
    outside_from = 0
    escaped_at = -1
    for match in _PDF_STRING_SYNTAX.finditer(chunk):
        at = match.start()
        if depth == 0:
            if chunk[at] == 0x28:  # ( opens a string
                kept.append(chunk[outside_from:at])
                depth = 1
        elif at == escaped_at:
            continue
        elif chunk[at] == 0x5C:  # a backslash escapes the byte after it
            escaped_at = at + 1
        elif chunk[at] == 0x28:
            depth += 1
        else:  # )
            depth -= 1
            if depth == 0:
                outside_from = at + 1
                kept.append(b" ")
    if depth == 0:
        kept.append(chunk[outside_from:])
    return b"".join(kept)


def _object_names(reader: PdfReader) -> Iterator[bytes]:
    """Every name (dictionary keys and values) in the trailer and in each object pypdf can read, including those
    packed in compressed object streams."""
    references = [(number, generation) for generation, table in reader.xref.items() for number in table]
    references += [(number, 0) for number in reader.xref_objStm]
    yield from _names_in(reader.trailer)
    for number, generation in references[:MAX_PDF_OBJECTS]:
        try:
            obj = reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: S112 - a broken object: the raw scan has already read its bytes
            continue
        yield from _names_in(obj)


def _names_in(obj: Any, depth: int = 0) -> Iterator[bytes]:
    """Names inside one object, not following references (each referenced object is visited on its own)."""
    if depth > 50:
        return
    if isinstance(obj, NameObject):
        yield str(obj)[1:].encode("latin-1", errors="replace")
    elif isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            yield str(key)[1:].encode("latin-1", errors="replace")
            yield from _names_in(value, depth + 1)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            yield from _names_in(item, depth + 1)


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
        refusal = _docx_active_content(archive, entries)
        if refusal:
            raise UploadRejected(refusal)

    try:
        document = docx.Document(BytesIO(data))
        texts = list(_block_texts(document))
        links = [link for paragraph in _paragraphs(document) for link in _paragraph_links(paragraph)]
    except Exception as error:  # python-docx and lxml raise many kinds of error on malformed input
        raise UploadRejected(DOCX_DAMAGED) from error
    text = _clean("\n".join(texts))
    return InspectedCV(DOCX_MEDIA_TYPE, "docx", None, text, count_words(text), _unique(links))


def _docx_active_content(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> str | None:
    """Why the Word file is refused for macros or for content it fetches from elsewhere when opened, or None.

    Hyperlinks are external relationships too, but Word follows them only when clicked and every CV has some
    (GitHub, LinkedIn): they are the one external kind allowed. Raises UploadRejected for an unreadable part.
    """
    if any(_MACRO_PART.search(entry.filename) for entry in entries):
        return DOCX_MACROS
    try:
        names = {entry.filename for entry in entries}
        if "[Content_Types].xml" in names and _MACRO_CONTENT_TYPE.search(archive.read("[Content_Types].xml")):
            return DOCX_MACROS
        external = [
            relationship
            for entry in entries
            if entry.filename.lower().endswith(".rels")
            for relationship in _relationships(archive.read(entry))
            if (relationship.get("TargetMode") or "").lower() == "external"
        ]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, etree.XMLSyntaxError) as error:
        raise UploadRejected(DOCX_DAMAGED) from error
    kinds = [(relationship.get("Type") or "") for relationship in external]
    if any(kind.endswith(ATTACHED_TEMPLATE_TYPE_SUFFIX) for kind in kinds):
        return DOCX_REMOTE_TEMPLATE
    if any(not kind.endswith(HYPERLINK_TYPE_SUFFIX) for kind in kinds):
        return DOCX_EXTERNAL_CONTENT
    return None


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _relationships(xml: bytes) -> list[Any]:
    """The <Relationship> elements of one .rels part (entities are not expanded, nothing is fetched)."""
    root = etree.fromstring(xml, parser=_XML_PARSER)
    return [element for element in root.iter() if element.tag == RELATIONSHIPS_NS]


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
