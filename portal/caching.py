"""HTTP caching: fingerprinted static files kept for a year, and public pages a shared cache may keep.

A static URL carries `?v=` and the first hex digits of its file's SHA-256, so a changed file has a new URL and an
unchanged one can be cached for good (`immutable`). Public pages seen by visitors who are not signed in carry an
ETag and Last-Modified built from what they are made of (the build and the content revisions), and answer a
conditional GET with 304 without rendering anything.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, Response, current_app, make_response, request, session
from flask_login import current_user
from werkzeug.http import is_resource_modified

STATIC_MAX_AGE = 365 * 24 * 3600
PUBLIC_MAX_AGE = 300  # a shared cache may serve a public page this long before asking again

_versions: dict[str, str | None] = {}
_versions_lock = threading.Lock()


def _file_version(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_version(filename: str) -> str | None:
    """The version of a file in the static folder, or None when there is no such file.

    Worked out once per file in a process; in debug mode again on every use, as files change while it runs.
    """
    if not current_app.debug:
        with _versions_lock:
            if filename in _versions:
                return _versions[filename]
    folder = Path(current_app.static_folder or "").resolve()
    path = (folder / filename).resolve()
    version = _file_version(path) if path.is_relative_to(folder) and path.is_file() else None
    with _versions_lock:
        if len(_versions) < 10_000:  # names come from requests too: never let them grow the table without end
            _versions[filename] = version
    return version


def _build(app: Flask) -> tuple[str, datetime]:
    """A digest of every template and shipped page, and when the newest of them changed."""
    digest = hashlib.sha256()
    newest = 0.0
    roots = [Path(app.root_path).parent / "templates", Path(app.root_path) / "pages" / "content"]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
                newest = max(newest, path.stat().st_mtime)
    return digest.hexdigest()[:16], datetime.fromtimestamp(int(newest), UTC)


def public_page(parts: tuple[str, ...], changed_at: datetime | None, render: Callable[[], str]) -> Response:
    """A page every visitor who is not signed in sees alike, with validators and shared-cache headers.

    `parts` name what the page is made of (content revisions); `changed_at` is when the newest of them was saved.
    Signed-in people, and visitors with a message waiting for them, get a page of their own, never cached.
    """
    if current_user.is_authenticated or session.get("_flashes"):
        return make_response(render())
    build_id, built_at = current_app.extensions["build"]
    etag = hashlib.sha256(":".join((build_id, *parts)).encode()).hexdigest()[:24]
    last_modified = max(built_at, changed_at) if changed_at else built_at
    if not is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response = Response(status=304)
    else:
        response = make_response(_rendered_once(etag, render))
    response.set_etag(etag)
    response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    return response


RENDERED_KEPT = 256
_rendered_lock = threading.Lock()


def _rendered_once(etag: str, render: Callable[[], str]) -> str:
    """The page's HTML, rendered once per version (and address it is served under) in each process."""
    store: dict = current_app.extensions.setdefault("public_html", {})
    key = (request.host_url, request.path, etag)
    with _rendered_lock:
        html = store.get(key)
    if html is None:
        html = render()
        with _rendered_lock:
            if len(store) >= RENDERED_KEPT:
                store.clear()
            store[key] = html
    return html


def init_app(app: Flask) -> None:
    app.extensions["build"] = _build(app)

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static_files(response: Response) -> Response:
        if (
            request.endpoint == "static"
            and response.status_code == 200
            and request.args.get("v")
            and request.args.get("v") == static_version((request.view_args or {}).get("filename", ""))
        ):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = STATIC_MAX_AGE
            response.cache_control.immutable = True
        return response
