"""CV files: what uploads are accepted, how they are stored, the instant check and the diff between versions."""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest

from portal import create_app
from portal.cvs.check import check_cv
from portal.cvs.diff import DiffLine, diff_summary, text_diff
from portal.cvs.validation import DOCX_MEDIA_TYPE, PDF_MEDIA_TYPE, UploadRejected, inspect_upload
from portal.storage import LocalStorage, StorageError, storage_for
from tests import cv_samples

ONLY_PDF_OR_DOCX = "Only PDF and Word (.docx) files are accepted."


def rejection(data: bytes) -> str:
    """The message the person uploading `data` is shown; fails the test if the upload is accepted."""
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(data)
    assert caught.value.field == "file"
    return caught.value.message


# --- What is accepted -------------------------------------------------------------------------------------------


def test_pdf_with_text_is_accepted_with_its_pages_and_words():
    inspected = inspect_upload(cv_samples.pdf_with_text(cv_samples.GOOD_CV_LINES, pages=2))

    assert inspected.media_type == PDF_MEDIA_TYPE
    assert inspected.extension == "pdf"
    assert inspected.page_count == 2
    assert "cut inference latency by 40%".lower() in inspected.text.lower()
    assert "£40k" in inspected.text
    assert 300 <= inspected.word_count <= 400


def test_docx_is_accepted_with_paragraph_and_table_text_in_order():
    data = cv_samples.docx_with_text(
        ["Priya Raman", "Machine Learning Engineer"], table=[["Skills", "Python, SQL"], ["Cloud", "AWS"]]
    )

    inspected = inspect_upload(data)

    assert inspected.media_type == DOCX_MEDIA_TYPE
    assert inspected.extension == "docx"
    assert inspected.page_count is None
    assert inspected.text.splitlines() == [
        "Priya Raman",
        "Machine Learning Engineer",
        "Skills",
        "Python, SQL",
        "Cloud",
        "AWS",
    ]
    assert inspected.word_count == 10


def test_docx_merged_table_cells_are_read_once():
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Experience"
    table.cell(1, 0).text, table.cell(1, 1).text = "2023", "Machine Learning Engineer"
    out = BytesIO()
    document.save(out)

    assert inspect_upload(out.getvalue()).text.splitlines() == ["Experience", "2023", "Machine Learning Engineer"]


def test_scanned_pdf_without_text_is_accepted_with_empty_text():
    inspected = inspect_upload(cv_samples.blank_pdf(pages=2))

    assert inspected.media_type == PDF_MEDIA_TYPE
    assert inspected.page_count == 2
    assert inspected.text == ""
    assert inspected.word_count == 0


def test_hyperlink_targets_are_collected_from_pdf_and_docx():
    pdf = inspect_upload(cv_samples.pdf_with_text(["Jane Doe", "GitHub"], links=["https://github.com/janedoe"]))
    word = inspect_upload(cv_samples.docx_with_text(["Jane Doe"], links={"Portfolio": "https://janedoe.dev"}))

    assert pdf.links == ("https://github.com/janedoe",)
    assert word.links == ("https://janedoe.dev",)
    assert "Portfolio" in word.text


def test_control_characters_are_dropped_from_extracted_text():
    inspected = inspect_upload(cv_samples.pdf_with_text(["Jane\x00Doe", "Python\x07 and SQL"]))

    assert inspected.text == "JaneDoe\nPython and SQL"


def test_pdf_of_fifty_pages_is_accepted():
    assert inspect_upload(cv_samples.pdf_with_text(["page"] * 50, pages=50)).page_count == 50


# --- What is refused, and what the user is told -----------------------------------------------------------------


def test_empty_file_is_refused():
    assert rejection(b"") == "The file is empty. Upload your CV as a PDF or Word (.docx) file."


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(cv_samples.exe_bytes(), id="renamed-executable"),
        pytest.param(cv_samples.html_as_pdf(), id="html-named-pdf"),
        pytest.param(b"Jane Doe\nMachine learning engineer\n", id="plain-text"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(100), id="png-image"),
        pytest.param(b"PK\x05\x06" + bytes(18), id="empty-zip"),
    ],
)
def test_files_that_are_neither_pdf_nor_docx_are_refused_whatever_their_name(data):
    message = rejection(data)

    assert message == ONLY_PDF_OR_DOCX
    assert "PDF" in message and ".docx" in message


def test_old_word_doc_is_refused_with_a_hint_to_save_as_docx():
    message = rejection(cv_samples.old_word_doc())

    assert message.startswith(ONLY_PDF_OR_DOCX)
    assert "save it as .docx" in message


def test_password_protected_pdf_is_refused():
    assert rejection(cv_samples.encrypted_pdf()) == (
        "This PDF is password-protected. Remove the password and upload it again."
    )


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_damaged_pdf_is_refused(keep):
    data = cv_samples.pdf_with_text(cv_samples.GOOD_CV_LINES)

    assert rejection(data[: int(len(data) * keep)]) == (
        "This PDF could not be opened: it may be damaged. Export it again and upload the new file."
    )


def test_pdf_of_more_than_fifty_pages_is_refused():
    message = rejection(cv_samples.pdf_with_text(["page"] * 51, pages=51))

    assert message.startswith("A CV should be a few pages; this PDF has 51.")


def test_zip_bomb_is_refused_before_any_member_is_read(monkeypatch):
    data = cv_samples.zip_bomb_docx()
    assert len(data) < 1024 * 1024  # small on disk, 60 MB unpacked

    def no_reading(*args, **kwargs):
        raise AssertionError("a zip member was opened before the archive was judged")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    message = rejection(data)

    assert message.startswith("This Word file unpacks to more than 50 MB")


def test_zip_with_too_many_entries_is_refused():
    message = rejection(cv_samples.many_entries_zip(1001))

    assert message.startswith("This Word file is made of more than 1,000 parts")


@pytest.mark.parametrize(
    "name",
    ["../../evil.txt", "word/../../evil.txt", "/etc/cron.d/evil", "C:/Windows/evil.dll", "\\evil.txt", "..\\evil.txt"],
)
def test_zip_entries_that_escape_the_folder_are_refused(name):
    data = cv_samples.absolute_path_zip(name) if name.startswith("/") else cv_samples.traversal_zip(name)

    message = rejection(data)

    assert message.startswith("This Word file contains parts with unsafe names")


def test_zip_without_word_document_is_refused():
    message = rejection(cv_samples.zip_without_document())

    assert message.startswith("This zip file is not a Word document.")
    assert "PDF or Word (.docx)" in message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04" + b"not really a zip" * 10, id="broken-zip"),
        pytest.param(cv_samples.traversal_zip("word/styles.xml"), id="no-content-types"),
    ],
)
def test_word_file_that_cannot_be_opened_is_refused(data):
    assert rejection(data).startswith("This Word file could not be opened: it may be damaged.")


# --- Storage ----------------------------------------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    root = tmp_path / "cvs"
    root.mkdir()
    return LocalStorage(root)


class NamedStream(BytesIO):
    name = "Priya-Raman-CV.pdf"


class BrokenStream:
    """Gives one chunk, then fails as a dropped connection would."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("connection reset by peer")
        return b"x" * (size if size > 0 else 1024)


def test_saved_file_round_trips_with_matching_size_and_sha256(storage):
    data = cv_samples.pdf_with_text(cv_samples.GOOD_CV_LINES) * 40  # several chunks

    stored = storage.save(NamedStream(data))

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    with storage.open(stored.key) as handle:
        assert handle.read() == data
    assert [path.name for path in storage.root.iterdir()] == [stored.key]

    storage.delete(stored.key)
    assert list(storage.root.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        storage.open(stored.key)
    storage.delete(stored.key)  # already gone: not an error


def test_keys_are_random_plain_tokens_without_the_original_name(storage):
    first = storage.save(NamedStream(b"same content"))
    second = storage.save(NamedStream(b"same content"))

    assert first.key != second.key
    assert first.sha256 == second.sha256
    for key in (first.key, second.key):
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,128}", key)
        assert "Priya" not in key and "." not in key


def test_stream_that_fails_halfway_leaves_nothing_behind(storage):
    with pytest.raises(OSError, match="connection reset"):
        storage.save(BrokenStream())

    assert list(storage.root.iterdir()) == []


def test_stream_over_the_limit_is_refused_and_leaves_nothing_behind(storage):
    with pytest.raises(StorageError):
        storage.save(BytesIO(b"x" * 1001), max_bytes=1000)

    assert list(storage.root.iterdir()) == []
    assert storage.save(BytesIO(b"x" * 1000), max_bytes=1000).size == 1000


@pytest.mark.parametrize(
    "key", ["../x", "a/b", "../../etc/passwd", "short", "", "a" * 129, "abcdefghijklmnop.pdf", "abcdefghijklmnopq\n"]
)
def test_keys_that_are_not_plain_tokens_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.path(key)
    with pytest.raises(ValueError):
        storage.open(key)
    with pytest.raises(ValueError):
        storage.delete(key)


def make_app(tmp_path: Path, upload_dir: Path):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x" * 40,
            "UPLOAD_DIR": str(upload_dir),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def test_storage_for_app_is_a_private_folder_under_upload_dir(tmp_path):
    app = make_app(tmp_path, tmp_path / "uploads")

    storage = storage_for(app)

    assert storage.root == (tmp_path / "uploads" / "cvs").resolve()
    assert stat.S_IMODE(storage.root.stat().st_mode) == 0o700
    assert not storage.root.is_relative_to(Path(app.static_folder).resolve())
    stored = storage.save(BytesIO(b"%PDF-1.4 test"))
    assert (storage.root / stored.key).read_bytes() == b"%PDF-1.4 test"


def test_storage_refuses_an_upload_dir_inside_static(tmp_path):
    app = make_app(tmp_path, tmp_path / "uploads")
    app.static_folder = str(tmp_path / "static")
    app.config["UPLOAD_DIR"] = str(tmp_path / "static" / "uploads")

    with pytest.raises(RuntimeError, match="static"):
        storage_for(app)
    assert not (tmp_path / "static").exists()


# --- The instant CV check ---------------------------------------------------------------------------------------


def items_by_key(text: str, page_count: int | None = None, links: tuple[str, ...] = ()):
    """The check's items by key; no page count by default, as a snippet on a page of its own would read as a scan."""
    return {item.key: item for item in check_cv(text, page_count, links)}


def test_good_ml_cv_passes_every_item():
    inspected = inspect_upload(cv_samples.pdf_with_text(cv_samples.GOOD_CV_LINES))

    items = check_cv(inspected.text, inspected.page_count, inspected.links)

    assert [item.key for item in items] == ["length", "contact", "links", "python", "sql", "production", "numbers"]
    assert [item.key for item in items if item.passed is not True] == []
    assert all(item.title and item.detail and item.why for item in items)
    by_key = {item.key: item for item in items}
    assert by_key["length"].detail == f"1 page, {inspected.word_count} words."
    assert by_key["links"].detail == "Found: GitHub and LinkedIn."
    assert by_key["production"].detail == ("Found: APIs, data pipelines, monitoring, cloud, containers and deployment.")


def test_thin_cv_fails_links_production_and_numbers_with_what_was_missing():
    items = items_by_key("\n".join(cv_samples.THIN_CV_LINES), page_count=1)

    assert items["python"].passed is True
    assert items["links"].passed is False
    assert items["links"].detail == "No GitHub, portfolio or LinkedIn link found."
    assert items["production"].passed is False
    assert items["production"].detail.startswith("No sign of deployed work found")
    assert items["numbers"].passed is False
    assert items["numbers"].detail.startswith("No measurable results found")
    assert items["length"].passed is False
    assert items["length"].detail.startswith("1 page, 48 words.")
    assert items["contact"].passed is False
    assert items["contact"].detail == "Found: email. No phone number or town or city found."
    assert items["sql"].passed is False


@pytest.mark.parametrize("page_count", [None, 1])
def test_cv_without_text_gets_the_could_not_read_item(page_count):
    items = check_cv("  \n ", page_count)

    assert items[0].key == "text"
    assert items[0].passed is None
    assert items[0].detail.startswith("We could not read the text of this file: it is most likely a scan")
    assert [item.key for item in items] == ["text"]  # no length or content verdicts on text it cannot read


def test_length_needs_one_or_two_pages_and_300_to_1000_words():
    words = " ".join(["word"] * 400)

    assert items_by_key(words, None)["length"].passed is True
    assert items_by_key(words, 2)["length"].detail == "2 pages, 400 words."
    assert items_by_key(words, 3)["length"].passed is False
    assert items_by_key(" ".join(["word"] * 1001), 2)["length"].passed is False
    assert list(items_by_key("", 3)) == ["text"]  # no text to judge: no verdict on the length


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("jane@example.com, Manchester", True),
        ("jane@example.com | 07700 900123", True),
        ("jane@example.com | +44 (0)20 7946 0958", True),
        ("jane@example.com, 2019 to 2023", False),
        ("07700 900123, London", False),
    ],
)
def test_contact_needs_an_email_and_a_phone_or_a_place(text, passed):
    assert items_by_key(text)["contact"].passed is passed


@pytest.mark.parametrize(
    ("text", "links", "detail"),
    [
        ("gitlab.com/jane", (), "Found: GitLab."),
        ("https://www.linkedin.com/in/jane", (), "Found: LinkedIn."),
        ("Portfolio: janedoe.dev", (), "Found: janedoe.dev."),
        ("See my GitHub", ("https://github.com/jane",), "Found: GitHub."),
        ("jane@janedoe.dev", (), "No GitHub, portfolio or LinkedIn link found."),
        ("Built with ASP.NET and Socket.io", (), "No GitHub, portfolio or LinkedIn link found."),
    ],
)
def test_links_count_profiles_and_portfolios_but_not_email_domains(text, links, detail):
    assert items_by_key(text, links=links)["links"].detail.startswith(detail)


@pytest.mark.parametrize(
    ("text", "passed"),
    [("Python 3.12", True), ("python3", True), ("PySpark", False), ("Jython", False)],
)
def test_python_must_be_named(text, passed):
    assert items_by_key(text)["python"].passed is passed


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SQL", "Found: SQL."),
        ("PostgreSQL and MySQL", "Found: PostgreSQL and MySQL."),
        ("BigQuery", "Found: BigQuery."),
        ("Snowflake", "Found: Snowflake."),
        ("NoSQL databases", "SQL is not mentioned, nor any SQL database."),
    ],
)
def test_sql_counts_sql_databases_but_not_nosql(text, detail):
    assert items_by_key(text)["sql"].detail == detail


def test_production_needs_two_signs_and_names_them():
    two = items_by_key("Deployed a FastAPI service on AWS.")["production"]
    one = items_by_key("Wrote Terraform for the team.")["production"]
    rest = items_by_key("Took a rest; the rest of the team used Excel.")["production"]

    assert two.passed is True and two.detail == "Found: APIs, cloud and deployment."
    assert one.passed is False and one.detail.startswith("Found only: Terraform.")
    assert rest.passed is False and rest.detail.startswith("No sign of deployed work found")


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("Cut latency by 35% and made training 3x faster.", True),
        ("Saved £40k a year; served 2 million users.", True),
        ("p95 latency down to 120 ms, 12 per cent more recall.", True),
        ("Improved accuracy by 5%.", False),
        ("Worked there from 2019 to 2023 for 4 years with 3 colleagues.", False),
    ],
)
def test_numbers_need_two_measurable_results(text, passed):
    assert items_by_key(text)["numbers"].passed is passed


def test_why_texts_speak_to_ml_engineering_employers():
    items = items_by_key("\n".join(cv_samples.THIN_CV_LINES), page_count=1)

    assert "not just experiment in a notebook" in items["links"].why
    assert "almost universally required" in items["sql"].why
    assert "Spark and Terraform" in items["production"].why


# --- The diff between versions ----------------------------------------------------------------------------------


def numbered(count: int, **changes: str) -> str:
    lines = [f"line {number}" for number in range(1, count + 1)]
    for key, value in changes.items():
        lines[int(key.removeprefix("line"))] = value
    return "\n".join(lines)


def test_identical_texts_have_no_diff_even_with_different_spacing():
    assert text_diff("Python\nSQL", "Python\nSQL") == []
    assert text_diff("Python\n\nSQL\n", "  Python\nSQL  \n\n") == []


def test_changed_line_keeps_two_lines_of_context_and_marks_the_gaps():
    diff = text_diff(numbered(10), numbered(10, line4="line 5, now with numbers: 40% faster"))

    assert diff == [
        None,
        DiffLine("same", "line 3"),
        DiffLine("same", "line 4"),
        DiffLine("removed", "line 5"),
        DiffLine("added", "line 5, now with numbers: 40% faster"),
        DiffLine("same", "line 6"),
        DiffLine("same", "line 7"),
        None,
    ]
    assert diff_summary(diff) == (1, 1)


def test_change_at_the_start_has_no_leading_gap_and_context_can_be_zero():
    diff = text_diff(numbered(5), "new first line\n" + numbered(5), context=0)

    assert diff == [DiffLine("added", "new first line"), None]


def test_distant_changes_are_separated_by_a_gap_and_near_ones_are_not():
    old = numbered(20)
    far = text_diff(old, "\n".join(line for line in old.splitlines() if line not in {"line 3", "line 15"}))
    near = text_diff(old, "\n".join(line for line in old.splitlines() if line not in {"line 3", "line 7"}))

    assert far.count(None) == 2
    assert near.count(None) == 1
    assert [line.text for line in near if line is not None] == [f"line {n}" for n in range(1, 10)]
    assert diff_summary(far) == (0, 2)


def test_negative_context_is_refused():
    with pytest.raises(ValueError):
        text_diff("a", "b", context=-1)
