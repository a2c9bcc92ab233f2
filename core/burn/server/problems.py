"""Errors as RFC 9457 problem details (``application/problem+json``) with a stable ``error`` code."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def problem(status: int, code: str, message: str, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:  # fmt: skip
    """RFC 9457 problem details; ``error`` is the stable code clients branch on."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status,
            "error": code, "message": message, **extra}  # fmt: skip
    return Response(orjson.dumps(body) + b"\n", status, headers=headers, media_type=PROBLEM)


_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           408: "Request Timeout", 409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type",
           405: "Method Not Allowed", 422: "Unprocessable Content", 500: "Internal Server Error"}  # fmt: skip
