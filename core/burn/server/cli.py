"""``burn serve`` and ``burn serve token create|list|revoke``."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

import orjson

from burn.errors import BurnError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="burn serve", description="the v1 contracts and the ledger over HTTP (docs/server.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = any free port)")
    p.add_argument("--certfile", help="TLS certificate (PEM), passed to uvicorn")
    p.add_argument("--keyfile", help="TLS private key (PEM), passed to uvicorn")
    p.add_argument("--refresh", type=float, default=2.0,
                   help="seconds between archive refreshes (default 2; 0: only after appends)")  # fmt: skip
    p.add_argument(
        "--max-body-bytes", type=int, default=8 * 1024 * 1024, help="POST body limit (default 8 MiB)"
    )
    p.add_argument("--max-batch", type=int, default=5000, help="ledger entries per POST (default 5000)")
    p.add_argument("--body-timeout", type=float, default=30.0, help="seconds to receive a body (default 30)")
    sub = p.add_subparsers(dest="action", parser_class=_Parser)
    tok = sub.add_parser("token", help="create, list or revoke bearer tokens")
    tsub = tok.add_subparsers(dest="token_action", required=True, parser_class=_Parser)
    create = tsub.add_parser("create", help="make a token; it is printed once and only its hash is kept")
    create.add_argument("--name", required=True, help="who holds it (a host name)")
    create.add_argument("--scope", choices=["read", "write", "admin"], default="read",
                        help="read (default): GET only; write: also POST /v1/ledger")  # fmt: skip
    lst = tsub.add_parser("list", help="tokens by name and scope (never the tokens)")
    lst.add_argument("--json", action="store_true")
    rev = tsub.add_parser("revoke", help="revoke a token by name or id (takes effect at once)")
    rev.add_argument("name")
    return p


def main(argv: Sequence[str]) -> int:
    from burn.paths import burn_home

    args = parser().parse_args(list(argv))
    home = burn_home()
    if args.action == "token":
        return _token(args, home)
    return serve(args, home)


def _token(args: argparse.Namespace, home: Any) -> int:
    from burn.server import tokens

    if args.token_action == "create":
        secret, token = tokens.create(home, args.name, args.scope)
        sys.stderr.write(f"token {token.name} ({token.scope}, id {token.id}); shown once, keep it now:\n")
        sys.stdout.write(secret + "\n")
        return 0
    if args.token_action == "list":
        found = [t.public() for t in tokens.load(home)]
        if args.json:
            sys.stdout.buffer.write(orjson.dumps(found, option=orjson.OPT_INDENT_2) + b"\n")
        else:
            for t in found:
                sys.stdout.write(f"{t['id']}\t{t['name']}\t{t['scope']}\t{t['created_at']}\n")
        return 0
    gone = tokens.revoke(home, args.name)
    sys.stderr.write(f"revoked token {gone.name} (id {gone.id})\n")
    return 0


def dashboard(argv: Sequence[str]) -> int:
    """``burn dashboard``: ``burn serve`` on a free loopback port; prints the page's URL and opens
    it in the browser unless ``--no-open`` (docs/dashboard.md)."""
    from burn.paths import burn_home

    p = _Parser(prog="burn dashboard", description="the analytics dashboard (docs/dashboard.md)")
    p.add_argument("--no-open", action="store_true", help="print the URL without opening a browser")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    opts = p.parse_args(list(argv))
    args = parser().parse_args(["--host", "127.0.0.1", "--port", str(opts.port)])

    def ready(url: str) -> None:
        sys.stdout.write(f"burn dashboard: {url}/\n")
        sys.stdout.flush()
        if not opts.no_open:
            import webbrowser

            webbrowser.open(f"{url}/")

    return serve(args, burn_home(), ready)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace, home: Any, ready: Any = None) -> int:
    try:
        import uvicorn

        from burn.server.app import Config, Server, create_app
    except ImportError as exc:
        raise BurnError(
            f"burn serve needs the server extra: pip install 'burn[server]' ({exc.name} missing)"
        ) from exc
    from burn.plugins.manager import Plugins
    from burn.plugins.stores import open_store
    from burn.server.keeper import Keeper
    from burn.server.tokens import Keyring

    if bool(args.certfile) != bool(args.keyfile):
        raise UsageError("--certfile and --keyfile go together")
    keyring = Keyring(home)
    loopback = is_loopback(args.host)
    if not loopback and not keyring.configured:
        raise BurnError(
            f"refusing to listen on {args.host} without tokens: anyone who can reach it could read and write "
            "the ledger. Create one with `burn serve token create --name HOST --scope write`, "
            "or bind 127.0.0.1"
        )
    plugins = Plugins()
    store = open_store(home, os.environ, plugins)
    if store.name == "http":
        raise BurnError("burn serve holds a durable store; RELAYBURN_STORAGE=http would point it at a server")
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise BurnError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    keeper = Keeper(home, store)
    keeper.start(args.refresh)
    config = Config(
        max_body_bytes=args.max_body_bytes, max_batch=args.max_batch, body_timeout=args.body_timeout
    )
    server = Server(home, keeper, dict(plugins.exporters()), keyring, config, auth_required=not loopback)
    app = create_app(server)
    host, port = sock.getsockname()[:2]
    scheme = "https" if args.certfile else "http"
    shown = f"[{host}]" if ":" in host else host
    listening = {"event": "listening", "url": f"{scheme}://{shown}:{port}", "store": store.name,
                 "auth": keyring.configured}  # fmt: skip
    sys.stderr.buffer.write(orjson.dumps(listening) + b"\n")
    sys.stderr.flush()
    if ready is not None:
        ready(listening["url"])
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                       ssl_certfile=args.certfile, ssl_keyfile=args.keyfile,
                                       timeout_keep_alive=5, server_header=False))  # fmt: skip
    try:
        uv.run(sockets=[sock])
    finally:
        keeper.close()
        sock.close()
    return 0


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, made with ``IPPROTO_TCP`` as its protocol number.

    Why not ``socket.create_server``: it makes the socket with protocol 0, and asyncio sets
    ``TCP_NODELAY`` on an accepted connection only when its protocol is ``IPPROTO_TCP``. Without
    it, uvicorn's two writes per response (headers, then body) meet Nagle's algorithm: the body
    waits for the client's delayed ACK of the headers, ~40 ms on every keep-alive request after
    the first (docs/performance.md, "`burn serve` under load").
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock
