"""Choosing a document's encoding: byte order mark, HTTP charset, XML declaration, and lies."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.pipeline.charset import charset_from_content_type, declared_encoding, decode_document

TEXT = "Café „Zürich“ — 東京 ½"
LATIN = "Café in Zürich, ½ price"
BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


def xml(text: str, encoding: str | None) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    return f"{declaration}<rss><channel><title>{text}</title></channel></rss>"


@pytest.mark.parametrize("codec", sorted(BOMS))
@pytest.mark.parametrize("with_bom", [True, False])
def test_unicode_encodings_with_or_without_a_bom(codec: str, with_bom: bool) -> None:
    document = xml(TEXT, codec.rsplit("-", 1)[0] if "-" in codec[4:] else codec)
    body = (BOMS[codec] if with_bom else b"") + document.encode(codec)
    assert decode_document(body) == document


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encodings_are_recognised_with_leading_white_space_and_no_declaration(
    codec: str,
) -> None:
    document = "\n  " + xml(TEXT, None)
    assert decode_document(document.encode(codec)) == document


def test_the_byte_order_mark_beats_the_header_and_the_declaration() -> None:
    body = codecs.BOM_UTF16_LE + xml(TEXT, "iso-8859-1").encode("utf-16-le")
    assert decode_document(body, "application/xml; charset=utf-8") == xml(TEXT, "iso-8859-1")


def test_the_header_charset_beats_the_declaration() -> None:
    body = xml(LATIN, "utf-8").encode("iso-8859-1")
    assert decode_document(body, "text/xml; charset=ISO-8859-1") == xml(LATIN, "utf-8")


def test_the_declaration_is_read_without_a_header_charset() -> None:
    body = xml("Привет, мир", "koi8-r").encode("koi8-r")
    assert decode_document(body, "application/rss+xml") == xml("Привет, мир", "koi8-r")
    body = xml("日本語のニュース", "Shift_JIS").encode("shift_jis")
    assert decode_document(body) == xml("日本語のニュース", "Shift_JIS")


@pytest.mark.parametrize(
    ("content_type", "declared"),
    [
        ("text/xml; charset=iso-8859-1", None),  # the header lies
        ("application/xml", "iso-8859-1"),  # the declaration lies
        ("text/xml; charset=windows-1252", "windows-1252"),  # both lie
        ("text/xml; charset=shift_jis", None),
        ("text/xml", "us-ascii"),
    ],
)
def test_a_label_that_lies_about_utf8_text_does_not_garble_it(
    content_type: str, declared: str | None
) -> None:
    document = xml(TEXT, declared)
    assert decode_document(document.encode("utf-8"), content_type) == document


def test_a_utf8_label_on_legacy_bytes_falls_back_to_windows_1252() -> None:
    document = xml("“Smart” quotes — and € in Zürich", "utf-8")
    body = document.encode("cp1252")
    assert decode_document(body, "application/xml; charset=utf-8") == document


def test_text_xml_without_charset_is_not_forced_to_ascii() -> None:
    document = xml(TEXT, None)
    assert decode_document(document.encode("utf-8"), "text/xml") == document


@pytest.mark.parametrize(
    "label", ["utf-16", "utf-32", "utf-7", "unicode_escape", "cp037", "rot13", "no-such-codec"]
)
def test_labels_that_are_not_ascii_compatible_web_encodings_are_ignored(label: str) -> None:
    document = xml(LATIN, label)
    assert decode_document(document.encode("utf-8"), f"text/xml; charset={label}") == document


def test_bytes_that_no_label_fits_still_decode() -> None:
    body = b"<rss><title>\x81\x8d\x8f\x90\x9d caf\xe9</title></rss>"
    assert decode_document(body).endswith("\x9d café</title></rss>")


def test_charset_and_declaration_readers() -> None:
    assert charset_from_content_type('text/xml; Charset="UTF-8"; q=1') == "UTF-8"
    assert charset_from_content_type("text/xml") is None
    assert charset_from_content_type(None) is None
    assert declared_encoding(b"<?xml version='1.0' encoding='latin1' ?><a/>") == "latin1"
    assert declared_encoding(b"<a/>") is None


@given(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200),
    st.sampled_from(sorted(BOMS)),
)
def test_any_text_with_a_bom_round_trips(text: str, codec: str) -> None:
    document = xml(text, None)
    assert decode_document(BOMS[codec] + document.encode(codec)) == document


@given(st.binary(max_size=300), st.sampled_from([None, "text/xml; charset=utf-16", "x"]))
def test_any_bytes_decode_without_raising(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_document(body, content_type), str)
