"""The published JSON Schemas (draft 2020-12): finding, loading, validating.

The files live in the repository's ``contracts/`` (the published copy); the wheel ships them as
``burn/contracts`` (``force-include`` in pyproject.toml). ``contracts_dir`` finds either, so an
editable install and an installed wheel validate against the same files (STYLE.md §10).
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
from collections.abc import Iterable, Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs
import orjson

from burn.errors import BurnError

VERSION_DIR = "v1"


def contracts_dir() -> Traversable:
    """JSON Schemas: packaged at ``burn/contracts`` in a wheel, repo-root ``contracts/`` in a checkout."""
    packaged = importlib.resources.files("burn") / "contracts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "contracts"


def names() -> list[str]:
    """Surfaces with a published schema (``sessions``, ``usage``, ``activity`` …)."""
    d = contracts_dir() / VERSION_DIR
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in d.iterdir() if p.name.endswith(suffix))


@functools.cache
def load(name: str) -> dict[str, Any]:
    path = contracts_dir() / VERSION_DIR / f"{name}.schema.json"
    if not path.is_file():
        raise BurnError(f"no schema named {name!r} (known: {', '.join(names()) or 'none'})")
    schema: dict[str, Any] = orjson.loads(path.read_bytes())
    return schema


def text(name: str) -> bytes:
    load(name)  # the friendly error for an unknown name
    return (contracts_dir() / VERSION_DIR / f"{name}.schema.json").read_bytes()


@functools.cache
def validator(name: str) -> Any:
    """A Draft 2020-12 validator of surface ``name`` (jsonschema is imported only here)."""
    from jsonschema import Draft202012Validator

    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@attrs.frozen
class Problem:
    line: int | None  # 1-based NDJSON line; None for a JSON document
    path: str  # JSON pointer-ish path of the failing value
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path or '/'}: {self.message}"


def _problems(name: str, value: Any, line: int | None) -> Iterator[Problem]:
    for err in sorted(validator(name).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        path = "/" + "/".join(str(p) for p in err.absolute_path)
        yield Problem(line, path if err.absolute_path else "", err.message)


def surface_of(value: Any) -> str | None:
    """The surface a document or meta line names (``burn.sessions`` → ``sessions``)."""
    meta = value.get("meta", value) if isinstance(value, dict) else None
    contract = meta.get("contract") if isinstance(meta, dict) else None
    if isinstance(contract, str) and contract.startswith("burn."):
        return contract[len("burn.") :]
    return None


def validate_bytes(data: bytes, name: str | None = None) -> tuple[str | None, int, list[Problem]]:
    """Validate a JSON document or an NDJSON stream. The surface is ``name`` or the one its meta
    names. Returns (surface, documents or lines checked, problems)."""
    stripped = data.strip()
    if not stripped:
        return name, 0, [Problem(None, "", "empty input")]
    lines = stripped.split(b"\n")
    if len(lines) > 1 and all(_is_object_line(x) for x in lines[:2]):
        return _validate_lines(lines, name)
    try:
        doc = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        return name, 0, [Problem(None, "", f"not JSON: {exc}")]
    surface = name or surface_of(doc)
    if surface is None:
        return None, 1, [Problem(None, "", "cannot tell the contract: no meta.contract (pass a schema name)")]
    return surface, 1, list(_problems(surface, doc, None))


def validate_stream(
    stream: Iterable[bytes], name: str | None = None
) -> tuple[str | None, int, list[Problem]]:
    """:func:`validate_bytes` over a binary stream, line by line: an NDJSON stream is never held
    in memory (blank lines are skipped); a JSON document is read whole, as it must be."""
    lines = (line.rstrip(b"\r\n") for line in stream)
    nonblank = (line for line in lines if line.strip())
    head = list(itertools.islice(nonblank, 2))
    if len(head) == 2 and all(_is_object_line(x) for x in head):
        return _validate_lines(itertools.chain(head, nonblank), name)
    return validate_bytes(b"\n".join(itertools.chain(head, nonblank)), name)


def _is_object_line(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _validate_lines(lines: Iterable[bytes], name: str | None) -> tuple[str | None, int, list[Problem]]:
    problems: list[Problem] = []
    surface = name
    n = 0
    types: list[str | None] = []
    for n, raw in enumerate(lines, 1):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problems.append(Problem(n, "", f"not JSON: {exc}"))
            continue
        if surface is None:
            surface = surface_of(value)
            if surface is None:
                problems.append(Problem(n, "", "cannot tell the contract: the first line is not a meta line"))
                return None, n, problems
        problems.extend(_problems(surface, value, n))
        kind = value.get("type") if isinstance(value, dict) else None
        types.append(kind if isinstance(kind, str) else None)
    problems.extend(_framing(types))
    return surface, n, problems


def _framing(types: list[str | None]) -> Iterator[Problem]:
    """NDJSON framing: meta first, end last, exactly one of each."""
    if not types or types[0] != "meta":
        yield Problem(1, "", "the first line must be the meta line")
    if not types or types[-1] != "end":
        yield Problem(len(types), "", "the last line must be the end line (the stream was cut?)")
    for i, t in enumerate(types[1:-1], 2):
        if t in ("meta", "end"):
            yield Problem(i, "", f"a {t} line in the middle of the stream")
