"""Dashboard pages (Chinese)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():  # noqa: ANN201
    return render_template("dashboard.html")
