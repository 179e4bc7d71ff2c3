"""Bytes of a feed document (XML or JSON) to text, in the encoding readers would choose.

The order (RFC 7303 section 3, XML 1.0 appendix F, with the WHATWG label rules):

1. a byte order mark (UTF-8, UTF-16, UTF-32) decides alone;
2. without one, the first bytes show UTF-16 or UTF-32 by their zero bytes (``<\\0?\\0``);
3. the ``charset`` of the HTTP ``Content-Type``;
4. the ``encoding`` of the XML declaration;
5. UTF-8; finally windows-1252, which decodes anything.

A declared encoding is used only if the bytes decode with it. A declaration that names a legacy
encoding for a body that is valid UTF-8 with non-ASCII characters is taken for the lie it
almost always is (valid multi-byte UTF-8 by accident is vanishingly rare in legacy text), so
the body is read as UTF-8 instead of being garbled. ``iso-8859-1`` and ``us-ascii`` mean
windows-1252, as in browsers. UTF-16/32 labels are believed only when the bytes show them, and
labels that are not ASCII-compatible web encodings (``utf-7``, ``unicode_escape``, EBCDIC) are
ignored.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["charset_from_content_type", "declared_encoding", "decode_document"]

_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_DECLARATION = re.compile(
    rb"""\s*<\?xml\s[^>]{0,200}?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
_WEB_CODECS = re.compile(
    r"utf-8|ascii|latin|iso8859-\d+|cp\d+|mac-\w+|koi8-\w+|kz1048|ptcp154|tis-620|"
    r"gb2312|gbk|gb18030|hz|big5(hkscs)?|euc_\w+|shift_jis(2004|x0213)?|iso2022_\w+|johab"
)
_EBCDIC = frozenset({"cp037", "cp273", "cp424", "cp500", "cp875", "cp1026", "cp1140"})
_WINDOWS_1252_LABELS = frozenset({"ascii", "iso8859-1", "latin-1", "latin_1"})


def decode_document(body: bytes, content_type: str | None = None) -> str:
    """``body`` as text, by the rules in this module's docstring; never raises."""
    for mark, codec in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            return body[len(mark) :].decode(codec, errors="replace")
    wide = _sniff_wide(body[:4])
    if wide is not None:
        return body.decode(wide, errors="replace")
    utf8 = _decode_utf8(body)
    for label in (charset_from_content_type(content_type), declared_encoding(body)):
        codec = _web_codec(label)
        if codec is None:
            continue
        if utf8 is not None and (codec == "utf-8" or not body.isascii()):
            return utf8
        if codec == "utf-8":
            continue  # claims UTF-8 but is not: look further
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    if utf8 is not None:
        return utf8
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("latin-1")  # the five bytes windows-1252 leaves undefined


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, if any."""
    if not content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def declared_encoding(body: bytes) -> str | None:
    """The ``encoding`` of an ASCII-compatible document's XML declaration, if any."""
    match = _DECLARATION.match(body[:512])
    return match.group(1).decode("ascii") if match else None


def _sniff_wide(head: bytes) -> str | None:
    """UTF-16/32 without a byte order mark, told by where the zero bytes of ASCII are."""
    if len(head) < 4 or 0 not in head:
        return None
    zeros = tuple(byte == 0 for byte in head)
    if zeros == (True, True, True, False):
        return "utf-32-be"
    if zeros == (False, True, True, True):
        return "utf-32-le"
    if zeros == (True, False, True, False):
        return "utf-16-be"
    if zeros == (False, True, False, True):
        return "utf-16-le"
    return None


def _web_codec(label: str | None) -> str | None:
    """Python's codec for an ASCII-compatible web encoding label, else None."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in _WINDOWS_1252_LABELS:
        return "cp1252"
    if name == "gb2312":
        return "gb18030"  # a superset: servers say gb2312 for gbk/gb18030 text
    if name in _EBCDIC or not _WEB_CODECS.fullmatch(name):
        return None
    return name


def _decode_utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None
