"""The OpenAPI 3.1 document of ``burn serve``, written by hand: the contracts' bodies are described
by their published JSON Schemas (``/v1/schemas/{name}``), which OpenAPI 3.1 can reference as they
are, instead of a second description generated from code."""

from __future__ import annotations

from typing import Any

from burn import __version__

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_FILTERS = [
    ("since", "YYYY-MM-DD, ISO date-time, or a duration back from now (7d, 12h, 2w)"),
    ("until", "YYYY-MM-DD (inclusive day), ISO date-time, or duration"),
    ("timezone", "IANA time zone for dates and buckets (default: the server's)"),
    ("source", "only these sources (repeat or comma-separate)"),
    ("project", "only these projects: key or label (repeatable)"),
    ("model", "only these model ids (repeatable)"),
    ("identity", "full, shareable (default) or anonymous"),
    ("format", "json (default) or ndjson; `Accept: application/x-ndjson` also selects ndjson"),
]


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


def _contract(surface: str, extra: list[dict[str, Any]]) -> dict[str, Any]:
    ref = f"/v1/schemas/{surface}"
    return {
        "parameters": [_q(n, d) for n, d in _FILTERS] + extra,
        "responses": {
            "200": {
                "description": f"the {surface} contract (schema at {ref})",
                "content": {
                    "application/json": {"schema": {"$ref": ref}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            "400": _PROBLEM,
            "401": _PROBLEM,
            "403": _PROBLEM,
        },
    }


def document() -> dict[str, Any]:
    sessions = _contract("sessions", [
        _q("limit", "rows per page (default 100, at most 10000)", {"type": "integer", "minimum": 1}),
        _q("cursor", "continue after the page that returned this cursor"),
        _q("all", "every row in one document", {"type": "boolean"}),
        _q("roots_only", "leave out subagent sessions", {"type": "boolean"}),
    ])  # fmt: skip
    reset = {"application/problem+json": {"schema": {"type": "object"}}}
    sessions["responses"]["409"] = {
        "description": "cursor_reset: restart without the cursor",
        "content": reset,
    }
    usage = _contract("usage", [_q("by", "day, week, month, session, model or project")])
    activity = _contract("activity", [_q("bucket", "bucket size (default 1h)")])
    analytics = _contract("analytics", [
        _q("range", "7d, 30d, 90d or all (instead of since)"),
        _q("bucket", "spend-over-time buckets: hour, day (default) or week"),
    ])  # fmt: skip
    analytics["parameters"].append(
        {"name": "panel", "in": "path", "required": True, "description": "summary, spend-over-time, "
         "projects, models, timing, agents, or page (all of them)", "schema": {"type": "string"}}
    )  # fmt: skip
    entry = {"type": "object", "required": ["v", "kind", "id", "record"],
             "properties": {"v": {"const": 1}, "kind": {"type": "string"}, "id": {"type": "string"},
                            "record": {"type": "object"}}}  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "burn serve",
            "version": __version__,
            "description": "burn's v1 contracts and ledger over HTTP (docs/server.md).",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/sessions": {"get": {"summary": "the sessions contract, paged", **sessions}},
            "/v1/reports/usage": {"get": {"summary": "the usage contract", **usage}},
            "/v1/reports/activity": {"get": {"summary": "the activity contract", **activity}},
            "/v1/analytics/{panel}": {"get": {"summary": "a dashboard panel (burn.analytics)", **analytics}},
            "/": {
                "get": {
                    "summary": "the dashboard page (docs/dashboard.md; no token needed for the page itself)",
                    "security": [],
                    "responses": {"200": {"description": "HTML"}},
                }
            },
            "/v1/schemas/{name}": {
                "get": {
                    "summary": "a published JSON Schema",
                    "parameters": [
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "the schema, byte for byte as `burn schema show`"},
                        "404": _PROBLEM,
                    },
                }
            },
            "/v1/ledger": {
                "post": {
                    "summary": "append ledger entries (idempotent by event id)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": entry}},
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {"description": "what was appended, revised, duplicate or refused"},
                        "400": _PROBLEM,
                        "401": _PROBLEM,
                        "403": _PROBLEM,
                        "408": _PROBLEM,
                        "413": _PROBLEM,
                        "422": _PROBLEM,
                    },
                },
                "get": {
                    "summary": "ledger entries after a position (the change feed)",
                    "parameters": [
                        _q("after", "position (default 0)", {"type": "integer", "minimum": 0}),
                        _q(
                            "limit",
                            "entries (default 1000, at most 10000)",
                            {"type": "integer", "minimum": 1, "maximum": 10000},
                        ),
                    ],
                    "responses": {
                        "200": {"description": "{entries: [{position, kind, id, record}], next, end}"},
                        "400": _PROBLEM,
                        "401": _PROBLEM,
                    },
                },
            },
            "/healthz": {
                "get": {
                    "summary": "liveness (no token needed)",
                    "security": [],
                    "responses": {"200": {"description": "{status, store}"}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text exposition",
                    "responses": {"200": {"description": "metrics"}},
                }
            },
            "/openapi.json": {
                "get": {"summary": "this document", "responses": {"200": {"description": "OpenAPI"}}}
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details; `error` is a stable code",
                    "content": {
                        "application/problem+json": {
                            "schema": {
                                "type": "object",
                                "required": ["error", "message"],
                                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                            }
                        }
                    },
                }
            },
        },
    }
