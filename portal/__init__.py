"""Career Services Portal: CV reviews, mock interviews and feedback for machine-learning engineers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application (portal.app): environment settings, then `config` overrides (tests pass theirs)."""
    # Imported here, not at the top: importing any one module (portal.config, say) must not build the whole app.
    from portal.app import create_app as build

    return build(config)
