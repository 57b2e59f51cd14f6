"""``/openapi.json`` and ``/docs``: the document, and Swagger UI showing it.

Swagger UI's script and stylesheet come from the pinned ``flask-openapi3-swagger`` package and
are served by this app under ``/docs/static``: the page works with no internet access, as the
status page does.
"""

from __future__ import annotations

from importlib.resources import files
from typing import cast

from flask import Response, current_app, jsonify, render_template
from flask_openapi3 import APIBlueprint, OpenAPI

from services.api.openapi import DOCS_TAG, served, text

SWAGGER_UI = str(files("flask_openapi3_swagger") / "templates" / "swagger")
"""Swagger UI's files (``js/swagger-ui-bundle.js``, ``css/swagger-ui.css``) as installed."""

blueprint = APIBlueprint(
    "docs",
    __name__,
    abp_tags=[DOCS_TAG],
    static_folder=SWAGGER_UI,
    static_url_path="/docs/static",
)


@blueprint.get(
    "/openapi.json",
    summary="This document (OpenAPI 3.1)",
    responses={
        200: {
            "description": "The OpenAPI document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def openapi_json() -> Response:
    return jsonify(served(cast(OpenAPI, current_app)))  # the app of services/api/app.py


@blueprint.get(
    "/docs",
    summary="This document in Swagger UI (HTML; every asset served by this app)",
    responses={200: text("The page", "text/html")},
)
def docs_page() -> str:
    return render_template("docs.html")
