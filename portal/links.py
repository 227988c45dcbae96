"""Links to the portal's pages, built from the one configured public address (PUBLIC_URL), never from a request's
Host header: the same in a request, in the worker and on the command line."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app
from werkzeug.routing import MapAdapter


def _adapter(app: Flask) -> MapAdapter:
    adapter = app.extensions.get("public_links")
    if adapter is None:
        address = urlsplit(app.config["PUBLIC_URL"])
        adapter = app.url_map.bind(
            address.netloc, script_name=address.path or "/", url_scheme=address.scheme or "https"
        )
        app.extensions["public_links"] = adapter
    return adapter


def public_url(endpoint: str, **values) -> str:
    """The full address of a page, for emails and calendar files."""
    app = current_app._get_current_object()
    app.inject_url_defaults(endpoint, values)
    return _adapter(app).build(endpoint, values, force_external=True)


def public_path(endpoint: str, **values) -> str:
    """The path of a page (under the public address's own path), for links inside the portal such as notices."""
    app = current_app._get_current_object()
    app.inject_url_defaults(endpoint, values)
    return _adapter(app).build(endpoint, values)
