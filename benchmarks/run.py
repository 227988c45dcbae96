"""Speed of every main page at a bootcamp's real size, as a ratio to a plain hello route (`make bench`).

For each data set (sqlite-small: the demo data; sqlite-large and postgres-large: see benchmarks/seed.py) the runner

1. prepares the database (the large ones are seeded once and cached);
2. in-process, with Flask's test client and the same users logged in through the real form, counts the SQL
   statements each page sends (second request, so caches are warm) and the size of its response;
3. starts gunicorn (4 sync workers on a free 127.0.0.1 port, access log off) serving benchmarks/app.py, waits
   until it answers, logs in as the candidate, the mentor and the admin through the login form;
4. runs `wrk` against `/__hello`, then the first page, `/__hello`, the next page, ... and reports each page's
   requests per second divided by the mean of the hello runs just before and after it, with p50 and p99 latency
   (benchmarks/wrk_report.lua). A run with time-outs, socket errors or non-2xx/3xx answers is flagged, not
   reported as a rate; so is a page that does not answer 200 or takes longer than the wrk time-out on its own;
5. measures the admin's bookings CSV export over 100,000 rows in one sync worker: resident memory growth
   (VmHWM after the download minus VmRSS before) on a copy of the large data set with extra cancelled bookings.

Targets: ratio >= 0.7 for the public pages, >= 0.5 for the candidate's home, >= 0.2 for reports, >= 0.3 for the
rest; p99 under 100 ms everywhere; export growth under 50 MB. The machine is shared: the load average before and
after each data set is recorded, and figures from a loaded machine should be read with care.

    make bench                                         # all three data sets, defaults
    python -m benchmarks.run --datasets sqlite-large --duration 3
    python -m benchmarks.run --pages slots,reports --datasets postgres-large --postgres-url postgresql+psycopg://...
    python -m benchmarks.run --reseed --csv-on sqlite-large,postgres-large --output /tmp/bench.json

Run from the repository root with `python -m` so that the checkout's `portal` is the one measured. Results go to
benchmarks/results/latest.json (machine facts, options, every run); a table per data set is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from benchmarks.second_factor import fresh_code
from benchmarks.seed import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    ROOT,
    Dataset,
    bench_config,
    prepare_large,
    prepare_small,
    url_for_display,
)

DATASETS = ("sqlite-small", "sqlite-large", "postgres-large")
LARGE_DATASETS = ("sqlite-large", "postgres-large")
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"
USER_AGENT = "portal-bench"  # the same for the login and for wrk: Flask-Login ties the session to it
P99_TARGET_MS = 100
LOCAL_ZONE = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    who: str  # anonymous, candidate, mentor or admin
    path: str  # may name parameters worked out per data set: {type_id}, {soon}, {busy_week}...
    target: float


PAGES = (
    Page("home", "Home", "anonymous", "/", 0.7),
    Page("guide", "MLE guide", "anonymous", "/guide", 0.7),
    Page("faq", "FAQ", "anonymous", "/faq", 0.7),
    Page("candidate-home", "Candidate home", "candidate", "/", 0.5),
    Page("slots", "Slot browser", "candidate", "/interviews/slots", 0.3),
    Page(
        "slots-filtered",
        "Slot browser, type and 2 weeks",
        "candidate",
        "/interviews/slots?type={type_id}&from={soon}&to={soon_plus_14}",
        0.3,
    ),
    Page("my-interviews", "My interviews", "candidate", "/interviews/bookings", 0.3),
    Page("progress", "Progress", "candidate", "/feedback/progress", 0.3),
    Page("mentor-schedule", "Mentor schedule", "mentor", "/mentor/schedule", 0.3),
    Page("review-queue", "CV review queue", "mentor", "/reviews/queue", 0.3),
    Page("admin-week", "Admin week view", "admin", "/admin/schedule/?week={busy_week}", 0.3),
    Page("reports", "Reports, 8 weeks", "admin", "/admin/reports", 0.2),
    Page("reports-2y", "Reports, 2 years", "admin", "/admin/reports?from={two_years_ago}&to={today}", 0.2),
    Page("people", "Admin people", "admin", "/admin/users", 0.3),
    Page("admin-bookings", "Admin bookings", "admin", "/admin/schedule/bookings", 0.3),
)


@dataclass
class Options:
    datasets: list[str]
    pages: list[str]
    duration: int
    connections: int
    threads: int
    timeout: int
    workers: int
    postgres_url: str
    reseed: bool
    csv_on: list[str]
    csv_rows: int
    output: Path


@dataclass
class PageResult:
    key: str
    title: str
    who: str
    url: str
    target: float
    status: int | None = None
    flag: str | None = None
    requests_per_second: float | None = None
    ratio: float | None = None
    hello_before: float | None = None
    hello_after: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    sql_statements: int | None = None
    bytes: int | None = None
    in_process_ms: float | None = None
    wrk: dict[str, Any] = field(default_factory=dict)

    @property
    def meets_targets(self) -> bool:
        return (
            self.flag is None
            and self.ratio is not None
            and self.ratio >= self.target
            and self.p99_ms is not None
            and self.p99_ms < P99_TARGET_MS
        )


def log(message: str) -> None:
    print(message, flush=True)


# HTTP ---------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float


class HiddenInputs(HTMLParser):
    """The values of a form's hidden inputs, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("type") == "hidden" and fields.get("name"):
            self.values[fields["name"]] = fields.get("value") or ""


def csrf_token(html: str) -> str:
    parser = HiddenInputs()
    parser.feed(html)
    if "csrf_token" not in parser.values:
        raise RuntimeError("the login page has no csrf_token input")
    return parser.values["csrf_token"]


class Browser:
    """A cookie-keeping client of one server; it never follows redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict[str, str] | None = None, timeout: float = 30) -> Answer:
        from urllib.parse import urlencode

        headers = {"User-Agent": USER_AGENT, "Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - began
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or cookie_value == "":
                    self.cookies.pop(cookie_name, None)
                else:
                    self.cookies[cookie_name] = cookie_value
        return Answer(response.status, response.getheaders(), content, seconds)

    def get(self, path: str, timeout: float = 30) -> Answer:
        return self.request("GET", path, timeout=timeout)

    def log_in(self, email: str, password: str, database_url: str) -> None:
        """Through the real form: the page's CSRF token, then POST /login (and the authenticator code for staff);
        the session cookie is kept."""
        page = self.get("/login")
        form = {"csrf_token": csrf_token(page.body.decode()), "email": email, "password": password}
        answer = self.request("POST", "/login", form)
        location = dict((name.lower(), value) for name, value in answer.headers).get("location", "")
        if answer.status == 302 and location.startswith("/login/code"):
            page = self.get(location)
            form = {"csrf_token": csrf_token(page.body.decode()), "code": fresh_code(database_url, email)}
            answer = self.request("POST", location, form)
        if answer.status != 302 or "session" not in self.cookies:
            raise RuntimeError(f"logging in as {email} failed: HTTP {answer.status}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BUSY_TCP_STATES = {"01", "03", "08"}  # ESTABLISHED, SYN_RECV, CLOSE_WAIT: a request accepted or waiting


class Server:
    """gunicorn serving benchmarks/app.py against one database, started and stopped by the benchmark."""

    def __init__(self, database_url: str, workers: int, name: str, timeout: int = 120) -> None:
        self.port = free_port()
        self.log_path = BENCH_DIR / f"gunicorn-{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            # the seeding's key: it encrypted the staff's authenticator keys (and sessions survive restarts)
            "SECRET_KEY": bench_config(database_url)["SECRET_KEY"],
            "RATELIMIT_ENABLED": "0",
            "PORTAL_ENV": "development",
            "MAIL_BACKEND": "console",
            "FLASK_DEBUG": "0",
            "UPLOAD_DIR": str(BENCH_DIR / "uploads"),
        }
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "2",
            "benchmarks.app:create_bench_app()",
        ]
        self.log_path.unlink(missing_ok=True)
        self.start()

    def start(self) -> None:
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                self.command, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
            )

    def restart(self) -> None:
        """Stop (abandoning requests still running) and start again on the same port."""
        self.stop()
        self.start()
        self.wait_until_ready()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_ready(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if Browser(self.port).get("/__hello", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {deadline_seconds} s; see {self.log_path}")

    def busy_connections(self) -> int:
        """Connections to the server that a worker has not finished answering (wrk may have given up on them)."""
        port = f"{self.port:04X}"
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[1].rsplit(":", 1)[1] == port and fields[3] in BUSY_TCP_STATES:
                    count += 1
        return count

    def settle(self, deadline_seconds: float = 30) -> str | None:
        """Wait until no request is left in the server; past the deadline, restart it. Says what happened."""
        began = time.monotonic()
        while time.monotonic() - began < deadline_seconds:
            if not self.busy_connections():
                waited = time.monotonic() - began
                return f"server busy {waited:.0f} s after the run" if waited > 2 else None
            time.sleep(0.1)
        self.restart()
        return f"server still busy {deadline_seconds:.0f} s after the run: restarted"

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(value) for value in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# wrk ----------------------------------------------------------------------------------------------------------


def run_wrk(url: str, options: Options, cookie: str | None = None, duration: int | None = None) -> dict[str, Any]:
    """One wrk run; its figures (benchmarks/wrk_report.lua) with requests per second and a flag when unusable."""
    command = [
        "wrk",
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{duration or options.duration}s",
        "--timeout",
        f"{options.timeout}s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        f"User-Agent: {USER_AGENT}",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    finished = subprocess.run(  # noqa: S603 - our own command line
        [*command, url], capture_output=True, text=True, timeout=(duration or options.duration) + 60, check=False
    )
    line = next((x for x in finished.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        return {"flag": f"wrk failed: {finished.stderr.strip() or finished.stdout.strip()}"[:200]}
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["requests_per_second"] = figures["requests"] / (figures["duration_us"] / 1e6)
    errors = figures["errors"]
    problems = []
    if errors["timeout"]:
        problems.append(f"time-out ({errors['timeout']} over {options.timeout} s)")
    if errors["status"]:
        problems.append(f"non-2xx/3xx ({errors['status']})")
    socket_errors = errors["connect"] + errors["read"] + errors["write"]
    if socket_errors:
        problems.append(f"socket errors ({socket_errors})")
    if not figures["requests"]:
        problems.append("no responses")
    elif figures["max_us"] >= options.timeout * 1e6 and not errors["timeout"]:
        problems.append(f"time-out (slowest {figures['max_us'] / 1e6:.1f} s)")
    figures["flag"] = "; ".join(problems) or None
    return figures


# In-process measurements --------------------------------------------------------------------------------------


def page_parameters(dataset: Dataset) -> dict[str, Any]:
    """Per data set: an interview type, dates for the filters and reports, and the week with most sessions."""
    from benchmarks.app import create_bench_app
    from portal.extensions import db
    from portal.interviews.models import Booking, InterviewType, Slot
    from portal.statuses import LIVE
    from portal.timeutil import to_local

    today = datetime.now(LOCAL_ZONE).date()
    app = create_bench_app(bench_config(dataset.url))
    with app.app_context():
        type_id = db.session.scalar(sa.select(sa.func.min(InterviewType.id)).where(InterviewType.active.is_(True)))
        weeks: Counter[date] = Counter()
        for (starts_at,) in db.session.execute(
            sa.select(Slot.starts_at).join(Booking, Booking.slot_id == Slot.id).where(Booking.status.in_(LIVE))
        ):
            day = to_local(starts_at, "Europe/London").date()
            weeks[day - timedelta(days=day.weekday())] += 1
        db.engine.dispose()
    busy_week = max(weeks, key=lambda monday: (weeks[monday], monday)) if weeks else today
    return {
        "type_id": type_id,
        "soon": (today + timedelta(days=1)).isoformat(),
        "soon_plus_14": (today + timedelta(days=15)).isoformat(),
        "busy_week": busy_week.isoformat(),
        "today": today.isoformat(),
        "two_years_ago": (today - timedelta(days=730)).isoformat(),
    }


def count_statements(dataset: Dataset, results: list[PageResult]) -> None:
    """SQL statements, response size and time of each page in-process, as the same users; the second request
    of each page is counted (the first warms caches), unless the first already took over 5 seconds."""
    from benchmarks.app import create_bench_app
    from portal.extensions import db

    app = create_bench_app(bench_config(dataset.url))
    statements: list[str] = []
    clients = {}
    for who in ("anonymous", "candidate", "mentor", "admin"):
        client = app.test_client()
        if who != "anonymous":
            token = csrf_token(client.get("/login").get_data(as_text=True))
            answer = client.post(
                "/login", data={"csrf_token": token, "email": dataset.users[who], "password": dataset.password}
            )
            if answer.status_code == 302 and answer.headers["Location"].startswith("/login/code"):
                token = csrf_token(client.get(answer.headers["Location"]).get_data(as_text=True))
                code = fresh_code(dataset.url, dataset.users[who])
                answer = client.post(answer.headers["Location"], data={"csrf_token": token, "code": code})
            if answer.status_code != 302:
                raise RuntimeError(f"in-process login as {dataset.users[who]} failed: HTTP {answer.status_code}")
        clients[who] = client
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    def timed_get(client, url: str):
        statements.clear()
        began = time.perf_counter()
        answer = client.get(url)
        return answer, time.perf_counter() - began

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for result in results:
            answer, seconds = timed_get(clients[result.who], result.url)
            requests = 1
            if seconds <= 5:
                answer, seconds = timed_get(clients[result.who], result.url)
                requests = 2
            result.sql_statements = len(statements)
            result.bytes = len(answer.get_data())
            result.in_process_ms = round(seconds * 1000, 1)
            if answer.status_code != 200:
                result.flag = f"HTTP {answer.status_code} in-process"
            log(
                f"  {result.title:<32} {len(statements):>4} SQL statements  {result.bytes:>9,} bytes  "
                f"{seconds * 1000:8.1f} ms in-process" + (" (first request: slow)" if requests == 1 else "")
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        engine.dispose()


# One data set -------------------------------------------------------------------------------------------------


def prepare(name: str, options: Options) -> Dataset:
    if name == "sqlite-small":
        return prepare_small()
    url = f"sqlite:///{BENCH_DIR / 'sqlite-large.db'}" if name == "sqlite-large" else options.postgres_url
    return prepare_large(name, url, options.reseed, log)


def database_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                return "PostgreSQL " + connection.execute(sa.text("SHOW server_version")).scalar()
            return "SQLite " + connection.execute(sa.text("SELECT sqlite_version()")).scalar()
    finally:
        engine.dispose()


def benchmark_dataset(dataset: Dataset, options: Options) -> dict[str, Any]:
    load_before = os.getloadavg()
    parameters = page_parameters(dataset)
    results = [
        PageResult(page.key, page.title, page.who, page.path.format(**parameters), page.target)
        for page in PAGES
        if not options.pages or page.key in options.pages
    ]
    log(f"{dataset.name}: counting SQL statements in-process")
    count_statements(dataset, results)

    log(f"{dataset.name}: gunicorn with {options.workers} sync workers")
    server = Server(dataset.url, options.workers, dataset.name)
    hello_runs: list[dict[str, Any]] = []
    try:
        server.wait_until_ready()
        browsers = {"anonymous": Browser(server.port)}
        for who in ("candidate", "mentor", "admin"):
            browsers[who] = Browser(server.port)
            browsers[who].log_in(dataset.users[who], dataset.password, dataset.url)
        run_wrk(server.url("/__hello"), options, duration=2)  # warm-up, not reported
        hello = run_wrk(server.url("/__hello"), options)
        hello_runs.append(hello)
        for result in results:
            measure_page(server, browsers[result.who], result, hello_runs, options)
    finally:
        server.stop()
    hello_rates = [run["requests_per_second"] for run in hello_runs if run.get("flag") is None]
    return {
        "name": dataset.name,
        "database": {"url": url_for_display(dataset.url), "version": database_version(dataset.url)},
        "seed": dataset.seed,
        "users": dataset.users,
        "parameters": parameters,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "hello": {
            "runs": hello_runs,
            "mean_requests_per_second": statistics.fmean(hello_rates) if hello_rates else None,
            "min": min(hello_rates, default=None),
            "max": max(hello_rates, default=None),
        },
        "pages": [{**asdict(result), "meets_targets": result.meets_targets} for result in results],
    }


def measure_page(
    server: Server, browser: Browser, result: PageResult, hello_runs: list[dict[str, Any]], options: Options
) -> None:
    """Check the page answers 200 in time, run wrk on it, then on /__hello again; the ratio uses both hellos.

    A page slower than the wrk time-out on its own is flagged and not loaded (16 such requests would keep the
    workers busy long after wrk stops); leftovers of a run are waited for, or the server restarted.
    """
    alone_limit = max(15, 3 * options.timeout)
    try:
        answer = browser.get(result.url, timeout=alone_limit)
    except TimeoutError:
        result.flag = f"time-out (over {alone_limit} s alone)"
        server.restart()
        log(f"  {result.title:<32} {result.flag}: skipped, server restarted")
        return
    result.status = answer.status
    if answer.status != 200:
        result.flag = f"HTTP {answer.status}"
    elif answer.seconds > options.timeout:
        result.flag = f"time-out ({answer.seconds:.1f} s alone)"
    if result.flag:
        log(f"  {result.title:<32} {result.flag}: skipped")
        return
    figures = run_wrk(server.url(result.url), options, cookie=browser.cookie_header or None)
    result.wrk = figures
    if figures.get("requests"):
        result.p50_ms = round(figures["p50_us"] / 1000, 1)
        result.p99_ms = round(figures["p99_us"] / 1000, 1)
    note = server.settle()
    if note and note.endswith("restarted"):
        run_wrk(server.url("/__hello"), options, duration=2)  # warm the new workers
    after = browser.get(result.url, timeout=alone_limit).status
    if figures["flag"]:
        result.flag = figures["flag"]
    elif after != 200:
        result.flag = f"HTTP {after} after the run"
    hello = run_wrk(server.url("/__hello"), options)
    result.hello_before = hello_runs[-1].get("requests_per_second")
    result.hello_after = hello.get("requests_per_second")
    hello_runs.append(hello)
    if result.flag is None:
        result.requests_per_second = round(figures["requests_per_second"], 1)
        hellos = [rate for rate in (result.hello_before, result.hello_after) if rate]
        result.ratio = round(result.requests_per_second / statistics.fmean(hellos), 3) if hellos else None
    outcome = f"{result.requests_per_second:8.1f} req/s  ratio {result.ratio}" if result.flag is None else result.flag
    log(f"  {result.title:<32} {outcome}" + (f"  ({note})" if note else ""))


# Output ------------------------------------------------------------------------------------------------------


def print_table(report: dict[str, Any], options: Options) -> None:
    hello = report["hello"]
    before = " ".join(f"{x:.2f}" for x in report["load_average_before"])
    after = " ".join(f"{x:.2f}" for x in report["load_average_after"])
    print()
    print(
        f"{report['name']} ({report['database']['version']}): {options.workers} gunicorn sync workers, "
        f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s --timeout {options.timeout}s"
    )
    if hello["mean_requests_per_second"]:
        print(
            f"/__hello {hello['mean_requests_per_second']:.0f} req/s (mean of {len(hello['runs'])} runs, "
            f"{hello['min']:.0f} to {hello['max']:.0f}); load average {before} before, {after} after"
        )
    header = (
        f"{'page':<32} {'who':<9} {'req/s':>8} {'ratio':>6} {'target':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'SQL':>5} {'bytes':>9}"
    )
    print(header)
    print("-" * (len(header) + 4))
    for page in report["pages"]:
        rate = f"{page['requests_per_second']:8.1f}" if page["requests_per_second"] is not None else f"{'—':>8}"
        ratio = f"{page['ratio']:6.2f}" if page["ratio"] is not None else f"{'—':>6}"
        p50 = f"{page['p50_ms']:7.1f}" if page["p50_ms"] is not None else f"{'—':>7}"
        p99 = f"{page['p99_ms']:7.1f}" if page["p99_ms"] is not None else f"{'—':>7}"
        sql = f"{page['sql_statements']:>5}" if page["sql_statements"] is not None else f"{'—':>5}"
        size = f"{page['bytes']:>9,}" if page["bytes"] is not None else f"{'—':>9}"
        mark = "✓" if page["meets_targets"] else "✗"
        line = f"{page['title']:<32} {page['who']:<9} {rate} {ratio} {'≥' + str(page['target']):>6} {p50} {p99} "
        print(line + f"{sql} {size}  {mark}" + (f"  {page['flag']}" if page["flag"] else ""))


def print_export(report: dict[str, Any]) -> None:
    if "error" in report:
        print(f"\nCSV export on {report['dataset']}: {report['error']}")
        return
    mark = "✓" if report["meets_target"] else "✗"
    print(
        f"\nCSV export on {report['dataset']}: {report['rows']:,} rows, {report['bytes'] / 1e6:.1f} MB in "
        f"{report['seconds']:.1f} s; worker RSS {report['rss_before_mb']:.1f} MB before, peak "
        f"{report['peak_mb']:.1f} MB: growth {report['growth_mb']:.1f} MB (target < {report['target_mb']} MB) {mark}"
    )


def machine_facts() -> dict[str, Any]:
    def version(command: list[str]) -> str:
        try:
            finished = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)  # noqa: S603
        except OSError:
            return "unavailable"
        return (
            (finished.stdout or finished.stderr).strip().splitlines()[0] if finished.stdout or finished.stderr else ""
        )

    import gunicorn

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": gunicorn.__version__,
        "wrk": version(["wrk", "-v"]),
        "git_commit": version(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "git_dirty": bool(version(["git", "-C", str(ROOT), "status", "--porcelain"])),
    }


# Main ---------------------------------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="Comma-separated, from: " + ", ".join(DATASETS))
    parser.add_argument("--pages", default="", help="Only these pages (comma-separated keys: home, slots, ...).")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run (default 10).")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2).")
    parser.add_argument("--timeout", type=int, default=5, help="Seconds before wrk counts a time-out (default 5).")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4).")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="Database for postgres-large; dropped and created again when seeding (env BENCH_POSTGRES_URL).",
    )
    parser.add_argument("--reseed", action="store_true", help="Seed the large data sets again even when cached.")
    parser.add_argument(
        "--csv-on",
        default="auto",
        help="Large data sets to measure the CSV export on, comma-separated, or 'none' "
        "(default: postgres-large when it is run, else sqlite-large).",
    )
    parser.add_argument("--csv-rows", type=int, default=100_000, help="Rows in the measured export (default 100000).")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results (default %(default)s).")
    args = parser.parse_args(argv)
    datasets = [name for name in args.datasets.split(",") if name]
    unknown = set(datasets) - set(DATASETS)
    pages = [key for key in args.pages.split(",") if key]
    unknown |= set(pages) - {page.key for page in PAGES}
    if unknown:
        parser.error(f"unknown data sets or pages: {', '.join(sorted(unknown))}")
    if args.csv_on == "auto":
        large = [name for name in LARGE_DATASETS if name in datasets]
        csv_on = ["postgres-large"] if "postgres-large" in large else large[:1]
    else:
        csv_on = [name for name in args.csv_on.split(",") if name and name != "none"]
        if set(csv_on) - set(LARGE_DATASETS):
            parser.error("--csv-on takes sqlite-large, postgres-large or none")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return Options(
        datasets,
        pages,
        args.duration,
        args.connections,
        args.threads,
        args.timeout,
        args.workers,
        args.postgres_url,
        args.reseed,
        csv_on,
        args.csv_rows,
        args.output,
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks.csv_export import measure_export

    options = parse_options(argv)
    if shutil.which("wrk") is None:
        log("wrk is not installed (Debian: apt-get install wrk).")
        return 2
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    report: dict[str, Any] = {
        "machine": machine_facts(),
        "load_average_before": os.getloadavg(),
        "options": {**asdict(options), "output": str(options.output)},
        "datasets": [],
        "csv_export": [],
    }
    report["options"]["postgres_url"] = url_for_display(options.postgres_url)
    log(f"Load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    failures = 0
    for name in options.datasets:
        try:
            dataset = prepare(name, options)
            dataset_report = benchmark_dataset(dataset, options)
        except (RuntimeError, OSError, sa.exc.SQLAlchemyError) as error:
            failures += 1
            log(f"{name}: not measured: {error}")
            report["datasets"].append({"name": name, "error": str(error)})
            continue
        report["datasets"].append(dataset_report)
        print_table(dataset_report, options)
        if name in options.csv_on:
            try:
                export = measure_export(dataset, options.csv_rows, log)
            except (RuntimeError, OSError, sa.exc.SQLAlchemyError) as error:
                failures += 1
                export = {"dataset": name, "error": str(error)}
            report["csv_export"].append(export)
            print_export(export)
        log("")
    report["load_average_after"] = os.getloadavg()
    report["seconds"] = round(time.monotonic() - began, 1)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(f"Results in {options.output} ({report['seconds'] / 60:.1f} min)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
