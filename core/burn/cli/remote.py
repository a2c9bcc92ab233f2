"""``burn report|export … --server URL``: the same document, fetched from ``burn serve``.

The parsed options go back to query parameters (only those that differ from the command's
defaults, which the server applies itself), the server runs the same contract path, and the
bytes are printed as they came. Plain ``urllib``: one GET needs no client library.
``RELAYBURN_SERVER_URL`` stands for ``--server``; ``RELAYBURN_TOKEN`` is sent as the bearer token
and never printed; an ``https://`` server is verified as the ``http`` store verifies it
(``RELAYBURN_CA_FILE``, :func:`burn.ledger.http_store.tls_context`).
"""

from __future__ import annotations

import argparse
import io
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, BinaryIO

import orjson

from burn.errors import BurnError
from burn.ledger.http_store import tls_context, untrusted
from burn.privacy.redact import url_without_credentials as shown

TIMEOUT = 60.0
_LOCAL = {"server", "format", "help"}  # options about this command, not the query


def query(parser: argparse.ArgumentParser, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query parameters that ask the server for what ``options`` ask the archive."""
    out: list[tuple[str, str]] = []
    for action in parser._actions:  # argparse has no public way to enumerate its options
        dest = action.dest
        if dest in _LOCAL or not action.option_strings or dest not in options:
            continue
        value = options[dest]
        if value is None or value == parser.get_default(dest):
            continue
        if action.nargs == 0:
            out.append((dest, "true" if value else "false"))
        elif isinstance(value, list):
            out += [(dest, str(v)) for v in value]
        else:
            out.append((dest, str(value)))
    return out


def fetch(server: str, path: str, params: list[tuple[str, str]], fmt: str, token: str | None,
          out: BinaryIO) -> int:  # fmt: skip
    """GET ``path`` from the server and write the body to ``out``; a cursor reset is printed on
    stderr as the CLI prints it (exit 3); any other refusal is a one-line error."""
    from burn.contract.page_cursor import CURSOR_RESET_EXIT

    base = server.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise BurnError(f"--server takes an http:// or https:// URL, not {shown(server)!r}")
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else base + path
    headers = {"Accept": "application/x-ndjson" if fmt == "ndjson" else "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    tls = tls_context(os.environ.get("RELAYBURN_CA_FILE") or None) if base.startswith("https://") else None
    try:
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=tls) as r:
            while chunk := r.read(64 * 1024):
                out.write(chunk)
        out.flush()
        return 0
    except urllib.error.HTTPError as exc:
        body = exc.read()
        if exc.code == 409:
            sys.stderr.buffer.write(body)
            sys.stderr.flush()
            return CURSOR_RESET_EXIT
        try:
            message = orjson.loads(body).get("message") or exc.reason
        except (orjson.JSONDecodeError, AttributeError):
            message = exc.reason
        raise BurnError(f"the burn server at {shown(server)} answered {exc.code}: {message}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise BurnError(f"cannot reach the burn server at {shown(server)}: {untrusted(reason)}") from None
        raise BurnError(f"cannot reach the burn server at {shown(server)}: {reason}") from exc


def command(args: argparse.Namespace, options: dict[str, Any], out: BinaryIO) -> int:
    """``burn export|report … --server URL``: the document from ``burn serve`` instead of the
    local archive; tables and CSV are rendered here from its JSON, as the local path does."""
    from burn.cli.contract import build_parser
    from burn.text import reports

    verb, name = args.verb, args.name
    parser = build_parser(verb, name, args.exporter)
    path = f"/v1/{name}" if verb == "export" else f"/v1/reports/{name}"
    token = os.environ.get("RELAYBURN_TOKEN") or None
    fmt = options.get("format")
    params = query(parser, options)
    if fmt in ("table", "csv") or (verb == "report" and fmt is None):
        # A table or CSV, rendered here from the server's JSON document (as _human does locally).
        buffer = io.BytesIO()
        code = fetch(options["server"], path, params, "json", token, buffer)
        if code == 0:
            doc = orjson.loads(buffer.getvalue())
            view = reports.View.from_args(args, sys.stdout, None)
            text = reports.csv_text(doc, view) if fmt == "csv" else reports.render(doc, view)
            out.write(text.encode())
            out.flush()
        return code
    return fetch(options["server"], path, params, fmt or "json", token, out)
