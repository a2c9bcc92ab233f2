"""The one cattrs converter for records, ledger lines and state files.

Fields equal to their default (``None`` counts, empty tuples, ``False`` flags) are omitted when
unstructuring, which keeps the ledger compact; structuring restores them, so an unknown count
round-trips as ``None`` and never as zero.

The converter (``converter``) is built on first use: records are encoded for the ledger by
functions compiled here from the attrs classes (:func:`to_dict`), and read back from it by
functions that take the values as they are when they already have the field's types
(:func:`from_dict`), so an ingest does not pay for importing cattrs unless a ledger value needs its
conversions (or its error message).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from burn.records import RECORD_TYPES, Record

if TYPE_CHECKING:
    from cattrs.preconf.orjson import OrjsonConverter

T = TypeVar("T")


@functools.cache
def _converter() -> OrjsonConverter:
    from cattrs.preconf.orjson import make_converter

    return make_converter(omit_if_default=True, forbid_extra_keys=False)


def __getattr__(name: str) -> Any:
    if name == "converter":  # ``from burn.convert import converter`` builds it
        return _converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_dict(record: Record) -> dict[str, Any]:
    """A record as a JSON-ready dict (defaults omitted): what ``converter.unstructure`` gives, by a
    function compiled per record class (the converter's generic dispatch was a third of the cost
    of encoding a record for the ledger). ``tests/test_convert.py`` holds the two to equal bytes."""
    fn = _DICT_FNS.get(type(record))
    out: dict[str, Any] = _converter().unstructure(record) if fn is None else fn(record)
    return out


def _compile(cls: type, fns: dict[type, Callable[[Any], dict[str, Any]]]) -> None:
    """The unstructure function of attrs class ``cls`` as cattrs generates it with
    ``omit_if_default``: fields without a default always, others when ``!=`` their default; nested
    attrs classes (alone or in a ``tuple[X, ...]``) by their own function, other values as they are
    (str, int, bool, None, tuples of them: orjson writes a tuple as the list cattrs makes)."""
    if cls in fns:
        return
    attrs.resolve_types(cls)
    ns: dict[str, Any] = {}
    required: list[str] = []
    optional: list[str] = []
    for i, a in enumerate(attrs.fields(cls)):
        value = f"o.{a.name}"
        args = typing.get_args(a.type)
        if attrs.has(a.type):
            _compile(a.type, fns)
            ns[f"u{i}"] = fns[a.type]
            value = f"u{i}({value})"
        elif (
            typing.get_origin(a.type) is tuple
            and len(args) == 2
            and args[1] is Ellipsis
            and attrs.has(args[0])
        ):
            _compile(args[0], fns)
            ns[f"u{i}"] = fns[args[0]]
            value = f"[u{i}(x) for x in {value}]"
        elif any(attrs.has(t) for t in args):
            raise TypeError(f"{cls.__name__}.{a.name}: no compiled unstructuring for {a.type}")
        if a.default is attrs.NOTHING:
            required.append(f"{a.name!r}: {value}")
        else:
            default: Any = a.default
            if isinstance(default, _FACTORY):
                default = typing.cast(Any, default).factory()
            ns[f"d{i}"] = default
            optional.append(f"    if o.{a.name} != d{i}:\n        res[{a.name!r}] = {value}\n")
    src = f"def unstructure(o):\n    res = {{{', '.join(required)}}}\n{''.join(optional)}    return res\n"
    exec(compile(src, f"<burn.convert {cls.__name__}>", "exec"), ns)
    fns[cls] = ns["unstructure"]


_FACTORY: type = type(attrs.Factory(tuple))
_DICT_FNS: dict[type, Callable[[Any], dict[str, Any]]] = {}
for _cls in RECORD_TYPES.values():
    _compile(_cls, _DICT_FNS)


def from_dict(kind: str, data: dict[str, Any]) -> Record:
    """Rebuild a record of ``kind`` from :func:`to_dict` output. Raises KeyError for unknown kinds.

    What burn wrote is taken as it is (lists become tuples); anything else (a value of another
    type, a missing field) goes to the cattrs converter, which converts it or says what is wrong,
    so the result is always what ``converter.structure`` gives (``tests/test_convert.py``)."""
    cls = RECORD_TYPES[kind]
    try:
        record: Record = _FROM_FNS[cls](data)
    except _NotPlain:
        record = _converter().structure(data, cls)
    return record


class _NotPlain(Exception):
    """A value that is not already of its field's type: the cattrs converter decides."""


def _plain(tp: Any) -> Callable[[Any], Any]:
    """A function returning a JSON value as a value of type ``tp`` when it already is one (a list
    becomes a tuple), and raising :class:`_NotPlain` otherwise. Only the types records use."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _plain(args[0] if args[1] is type(None) else args[1])
        return lambda v: None if v is None else inner(v)
    if tp in (str, int, bool):

        def exact(v: Any) -> Any:
            if type(v) is not tp:  # not isinstance: cattrs turns True into 1 for an int
                raise _NotPlain
            return v

        return exact
    if origin is Literal and all(type(a) is str for a in args):
        allowed = frozenset(args)

        def literal(v: Any) -> Any:
            if type(v) is not str or v not in allowed:
                raise _NotPlain
            return v

        return literal
    if attrs.has(tp):
        return _from_fn(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _plain(args[0])

            def var_tuple(v: Any) -> Any:
                if type(v) is not list:
                    raise _NotPlain
                return tuple([item(x) for x in v])

            return var_tuple
        items = [_plain(a) for a in args]

        def fixed_tuple(v: Any) -> Any:
            if type(v) is not list or len(v) != len(items):
                raise _NotPlain
            return tuple([f(x) for f, x in zip(items, v, strict=True)])

        return fixed_tuple
    raise TypeError(f"no plain structuring for {tp!r}")


def _from_fn(cls: type) -> Callable[[Any], Any]:
    """The structuring function of attrs class ``cls``: fields by name, absent ones defaulted (as
    ``omit_if_default`` wrote them), unknown keys ignored (``forbid_extra_keys=False``)."""
    attrs.resolve_types(cls)
    fields = [(a.name, a.alias, _plain(a.type), a.default is attrs.NOTHING) for a in attrs.fields(cls)]

    def structure(data: Any) -> Any:
        if type(data) is not dict:
            raise _NotPlain
        kwargs = {}
        for name, alias, plain, required in fields:
            if name in data:
                kwargs[alias] = plain(data[name])
            elif required:
                raise _NotPlain
        return cls(**kwargs)

    return structure


def structure(data: Any, cls: type[T]) -> T:
    """Structure arbitrary data into ``cls`` with the shared converter."""
    return _converter().structure(data, cls)


_FROM_FNS: dict[type, Callable[[Any], Any]] = {cls: _from_fn(cls) for cls in RECORD_TYPES.values()}
