"""Real PDF, Word and zip files built in memory for the CV tests: no binary fixtures in the repository."""

from __future__ import annotations

import zipfile
from io import BytesIO

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pypdf import PdfWriter

A4 = (595, 842)
LEADING = 14

GOOD_CV_LINES = [
    "Priya Raman",
    "Machine Learning Engineer",
    "priya.raman@example.com | +44 7700 900123 | London",
    "github.com/priyaraman | linkedin.com/in/priyaraman",
    "Profile",
    "Machine learning engineer who takes models from notebook to production. I build data pipelines,",
    "serve models behind APIs and keep them healthy with monitoring, so that the work keeps paying off",
    "after launch. Comfortable across Python, SQL and the AWS stack, and happy explaining trade-offs",
    "to product managers and analysts as well as engineers.",
    "Experience",
    "Machine Learning Engineer, Fernway Insurance, London, 2023 to present",
    "Built a FastAPI service that served 2 million predictions a day for claims triage, deployed on AWS",
    "with Docker and ECS behind a load balancer.",
    "Cut inference latency by 40% by exporting the model to ONNX and batching requests.",
    "Moved nightly feature jobs from cron scripts to Airflow pipelines with retries, alerts and backfills.",
    "Set up monitoring for data drift and prediction quality with Prometheus and Grafana dashboards,",
    "catching a broken upstream feed within an hour instead of a week.",
    "Wrote SQL in PostgreSQL and BigQuery to build training sets from five years of claims history.",
    "Data Analyst, Northgate Retail, Manchester, 2020 to 2023",
    "Built a demand forecasting model in Python with LightGBM that reduced overstock by 12% across",
    "forty stores and saved an estimated £40k a year in waste.",
    "Automated weekly reporting with SQL and dbt, saving the team six hours every week.",
    "Projects",
    "Retrieval assistant for policy documents: a small language model with a vector index, evaluated",
    "against a labelled question set and deployed as a container with a simple web front end.",
    "Training pipeline rewrite: 3x faster training by caching features and using mixed precision on GPUs.",
    "Skills",
    "Python, SQL, PyTorch, scikit-learn, pandas, FastAPI, Airflow, Docker, Kubernetes basics, AWS",
    "(S3, ECS, SageMaker), Git, GitHub Actions for CI/CD, pytest, MLflow for experiment tracking.",
    "Education",
    "Machine Learning Engineering Bootcamp, London, 2023",
    "BSc Mathematics, University of Leeds, 2020",
    "Interests",
    "Running, chess, and volunteering as a mentor for people moving into tech from other careers.",
    "Certifications: AWS Certified Machine Learning Specialty, 2024. References are available on request.",
]

THIN_CV_LINES = [
    "Sam Jones",
    "sam.jones@example.com",
    "I am a hard working and motivated person looking for a job in machine learning.",
    "I know Python and I have done some online courses about neural networks.",
    "I worked in a shop for two years and I was good with customers.",
]


def _pdf_string(text: str) -> bytes:
    """`text` as a PDF literal string in WinAnsi encoding, with the delimiters escaped."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content_stream(lines: list[str]) -> bytes:
    parts = [b"BT", b"/F1 11 Tf", f"{LEADING} TL".encode(), f"50 {A4[1] - 60} Td".encode()]
    for line in lines:
        parts.append(_pdf_string(line) + b" Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def pdf_with_text(lines: list[str], pages: int = 1, links: list[str] | None = None) -> bytes:
    """A genuine PDF, written object by object, with `lines` spread in order over `pages` pages of Helvetica text.

    `links` become URI link annotations on the first page, as word processors write hyperlinks.
    """
    per_page = max(-(-len(lines) // pages), 1)
    chunks = [lines[index * per_page : (index + 1) * per_page] for index in range(pages)]
    # Objects: 1 catalog, 2 page tree, 3 font, then a page and its content stream for each page.
    page_ids = [4 + 2 * index for index in range(pages)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % pid for pid in page_ids) + b"] /Count %d >>" % pages,
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    annotation_ids = [4 + 2 * pages + index for index in range(len(links or []))]
    for annotation_id, uri in zip(annotation_ids, links or [], strict=True):
        objects[annotation_id] = (
            b"<< /Type /Annot /Subtype /Link /Rect [50 50 200 62] /Border [0 0 0] "
            b"/A << /S /URI /URI " + _pdf_string(uri) + b" >> >>"
        )
    for page_id, chunk in zip(page_ids, chunks, strict=True):
        stream = _content_stream(chunk)
        annots = b""
        if page_id == page_ids[0] and annotation_ids:
            annots = b" /Annots [" + b" ".join(b"%d 0 R" % aid for aid in annotation_ids) + b"]"
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % A4
            + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R" % (page_id + 1)
            + annots
            + b" >>"
        )
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"

    out = BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref_at = out.tell()
    count = max(objects) + 1
    out.write(b"xref\n0 %d\n" % count)
    out.write(b"0000000000 65535 f \n")
    for number in range(1, count):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref_at))
    return out.getvalue()


def blank_pdf(pages: int = 1) -> bytes:
    """A PDF with pages but no text at all, as a scanned CV looks to a text extractor."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=A4[0], height=A4[1])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF that needs the password "secret" to open."""
    writer = PdfWriter()
    writer.add_blank_page(width=A4[0], height=A4[1])
    writer.encrypt("secret")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_with_text(
    paragraphs: list[str], table: list[list[str]] | None = None, links: dict[str, str] | None = None
) -> bytes:
    """A Word document made by python-docx: the paragraphs, then `links` (shown text -> address), then a table."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    for shown, address in (links or {}).items():
        _add_hyperlink(document.add_paragraph(), shown, address)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(row) for row in table))
        for row_cells, row in zip(grid.rows, table, strict=True):
            for cell, text in zip(row_cells.cells, row, strict=False):
                cell.text = text
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _add_hyperlink(paragraph, shown: str, address: str) -> None:
    """A real external hyperlink: a relationship to `address` and a w:hyperlink run showing `shown`."""
    rel_id = paragraph.part.relate_to(address, RT.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    hyperlink.append(run)
    paragraph._p.append(hyperlink)


MINIMAL_DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>"
)


def _zip(entries: dict[str, bytes | str]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


def zip_bomb_docx(megabytes: int = 60) -> bytes:
    """A small zip holding word/document.xml and one entry that inflates to `megabytes` MB of zeros."""
    out = BytesIO()
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", MINIMAL_DOCUMENT_XML)
        with archive.open("word/media/padding.bin", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(zeros)
    return out.getvalue()


def many_entries_zip(n: int = 1001) -> bytes:
    """A zip with word/document.xml among `n` entries in all."""
    entries: dict[str, bytes | str] = {"word/document.xml": MINIMAL_DOCUMENT_XML}
    entries.update({f"word/media/part{index}.bin": b"" for index in range(n - 1)})
    return _zip(entries)


def traversal_zip(name: str = "../../evil.txt") -> bytes:
    """A zip with word/document.xml and an entry whose name climbs out of the extraction directory."""
    return _zip({"word/document.xml": MINIMAL_DOCUMENT_XML, name: b"owned"})


def absolute_path_zip(name: str = "/etc/cron.d/evil") -> bytes:
    """A zip with word/document.xml and an entry with an absolute name."""
    return traversal_zip(name)


def zip_without_document() -> bytes:
    """A valid zip that is not a Word document."""
    return _zip({"notes.txt": "just some notes", "photo.jpg": b"\xff\xd8\xff\xe0"})


def exe_bytes() -> bytes:
    """The start of a Windows executable, as if renamed to cv.pdf."""
    return b"MZ" + b"\x90\x00\x03\x00" + bytes(56) + b"This program cannot be run in DOS mode.\r\n" + bytes(400)


def html_as_pdf() -> bytes:
    return b"<html><script>alert(1)</script></html>"


def old_word_doc() -> bytes:
    """The OLE2 signature that starts a Word 97-2003 (.doc) file."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
