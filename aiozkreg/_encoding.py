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
* Non-finite floats are written as ``NaN`` / ``Infinity``, the common JSON
  extension Python's ``json`` reads and writes by default (the reference
  did the same). Values that JSON cannot represent raise ``TypeError``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

__all__ = ["decode_properties", "encode_properties"]

logger = logging.getLogger("aiozkreg.encoding")

_BLANK = " \t\n\r\x0b\x0c"
_STRING_VALUE = "string_value"


def encode_properties(props: Mapping[str, Any]) -> bytes:
    """Node data for ``props``: compact JSON, or a lone ``string_value`` raw."""
    raw = props.get(_STRING_VALUE)
    if len(props) == 1 and isinstance(raw, str) and _reads_back_raw(raw):
        return raw.encode("utf-8", "surrogateescape")
    text = json.dumps(dict(props), separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them all
        return json.dumps(dict(props), separators=(",", ":")).encode("ascii")


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
