"""Node data <-> properties: the JSON convention zc.zk nodes use.

Pure: no I/O. The rules, matching the reference (zc.zk 2.x):

* Properties are written as compact JSON (``{"a":1,"b":"x"}``), keys in the
  mapping's order. Empty properties are written as ``{}``, never as empty
  bytes.
* If the only key is ``string_value`` (and its value is a string), the
  string is written raw, without JSON around it -- that is how data from
  other tools is carried through untouched. When the raw text would read
  back as something else (blank, or a JSON object), it is wrapped in JSON
  instead, so ``decode_properties(encode_properties(p)) == p`` always holds.
* Reading: ``None``, empty or blank data gives ``{}``. Data whose stripped
  text starts with ``{`` and ends with ``}`` is parsed as JSON; if that
  fails, a warning is logged on ``aiozkreg.encoding`` and the data reads as
  ``{"string_value": <the raw, unstripped text>}``. Anything else
  (JSON arrays and numbers included) reads as ``{"string_value": <raw text>}``.
* "Blank" and "stripped" mean ASCII whitespace (space, tab, CR, LF, VT,
  FF), as the reference stripped bytes.

Text encoding decisions:

* Bytes are decoded as UTF-8 with ``errors="surrogateescape"``: data that is
  not UTF-8 never raises, and each undecodable byte becomes a lone
  surrogate. A ``string_value`` read that way is written back as the exact
  original bytes, so binary data written by other tools survives a read and
  rewrite byte for byte.
* JSON is written with ``ensure_ascii=False`` (UTF-8, readable in zkCli) --
  except when a string holds lone surrogates, which UTF-8 cannot carry: then
  the whole document is written with ``\\uXXXX`` escapes (``ensure_ascii``),
  which every JSON reader accepts and which reads back to the same strings.
* Non-finite floats (``inf``, ``-inf``, ``nan``, at any depth) are not
  JSON: writing them raises ``ValueError`` naming the key, before anything
  is written. (The reference wrote ``Infinity`` / ``NaN``, which strict JSON
  readers -- Java's, Go's, ``JSON.parse`` -- refuse.) Reading stays
  tolerant: data holding ``NaN`` or ``Infinity`` written by another tool
  decodes to the float, but cannot be written back unchanged. Other values
  that JSON cannot represent raise ``TypeError``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["check_finite", "decode_properties", "encode_properties", "json_bytes"]

logger = logging.getLogger("aiozkreg.encoding")

_BLANK = " \t\n\r\x0b\x0c"
_STRING_VALUE = "string_value"


def encode_properties(props: Mapping[str, Any]) -> bytes:
    """Node data for ``props``: compact JSON, or a lone ``string_value`` raw.

    Raises ``ValueError`` naming the key if a value holds ``inf``, ``-inf`` or ``nan``.
    """
    raw = props.get(_STRING_VALUE)
    if len(props) == 1 and isinstance(raw, str) and _reads_back_raw(raw):
        return raw.encode("utf-8", "surrogateescape")
    try:
        return json_bytes(dict(props))
    except ValueError:  # json's message names no key: say which one
        problem = _non_finite_message(props)
        if problem is None:
            raise
        raise ValueError(problem) from None


def json_bytes(document: dict[str, Any]) -> bytes:
    """``document`` as compact JSON in UTF-8, as every layout writes its node data.

    A string holding lone surrogates makes the whole document ``\\uXXXX``-escaped
    ASCII; a non-finite number raises ``ValueError`` (json's message: no key named).
    """
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them all
        return json.dumps(document, separators=(",", ":")).encode("ascii")


def check_finite(props: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the key if any value of ``props`` holds a non-finite float."""
    problem = _non_finite_message(props)
    if problem is not None:
        raise ValueError(problem)


def _non_finite_message(props: Mapping[str, Any]) -> str | None:
    for key, value in props.items():
        found = _non_finite(value)
        if found is not None:
            return (
                f"The property {key!r} holds {found}, which is not JSON: properties are "
                "finite numbers, strings, booleans, None, lists and dicts."
            )
    return None


def _non_finite(value: object) -> str | None:
    """The repr of the first non-finite float in ``value`` (at any depth), or None.

    Iterative, and each container is visited once: no depth or cycle makes it fail.
    """
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return repr(item)
        elif isinstance(item, list | tuple | Mapping) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(reversed(list(item.values() if isinstance(item, Mapping) else item)))
    return None


def decode_properties(data: bytes | None, path: str | None = None) -> dict[str, Any]:
    """The properties held in node ``data`` (``path`` is only used in the log message)."""
    if not data:
        return {}
    return _decode_text(data.decode("utf-8", "surrogateescape"), path=path)


def _reads_back_raw(text: str) -> bool:
    """True if ``text`` written raw reads back as ``{"string_value": text}``."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return False
    if data.decode("utf-8", "surrogateescape") != text:
        return False  # escaped bytes that would merge into a UTF-8 character
    return _decode_text(text, log=False) == {_STRING_VALUE: text}


def _decode_text(text: str, *, path: str | None = None, log: bool = True) -> dict[str, Any]:
    stripped = text.strip(_BLANK)
    if not stripped:
        return {}
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            if log:
                logger.warning(
                    "Node data%s looks like JSON but is not (%s); reading it as string_value.",
                    f" at {path}" if path else "",
                    exc,
                )
        else:
            if isinstance(value, dict):
                return value
    return {_STRING_VALUE: text}
