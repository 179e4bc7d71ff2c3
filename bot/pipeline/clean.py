"""Strip news boilerplate from article text before it is summarised (pure functions).

:func:`clean_text` removes datelines, bylines, timestamps, video/read-more prompts and
photo credits from the text; :func:`is_boilerplate` recognises whole sentences that are
page furniture (cookie banners, newsletter sign-ups, "Click here", credits, disclaimers).
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "is_boilerplate"]

_OUTLET = r"[A-Z][\w&'’.]*(?:\s+[A-Z][\w&'’.]*){0,4}"
_DASH = r"(?:--|—|–|-|:|\|)"
_NEXT_IS_START = r"(?=[A-Z0-9\"“‘'(]|$)"
"""A dateline is followed by the start of a sentence (or nothing)."""

# "(CNN)", "(CNN) --", "LONDON (Reuters) -", "WASHINGTON, D.C. (AP) —", "(The Hollywood Reporter)"
_DATELINE_PAREN = re.compile(
    rf"^(?:[A-Z][A-Z.'’\-]+(?:[\s,]+[A-Z][A-Za-z.'’\-]+){{0,3}},?\s*)?\(\s*{_OUTLET}\s*\)"
    rf"\s*+(?:{_DASH}\s*+)?{_NEXT_IS_START}"
)
_WIRE = r"CNN(?: ?Money)?|AP|AFP|UPI|HLN|EW|Reuters|Bloomberg(?: News)?|Xinhua|Mashable|Variety|dpa"
# "Hong Kong (CNN)", "Sanaa, Yemen (CNN) --": a title-case place needs a known wire/outlet
_DATELINE_PLACE = re.compile(
    rf"^[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){{0,3}}(?:,\s*[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){{0,2}})?"
    rf"\s*+\((?:{_WIRE})\)\s*+(?:{_DASH}\s*+)?{_NEXT_IS_START}"
)
# "LONDON —", "NEW YORK, March 3 (Reuters) -" (all-caps place then a dash)
_DATELINE_CAPS = re.compile(
    r"^[A-Z][A-Z'’.\-]+(?:\s+[A-Z][A-Z'’.\-]+){0,3}(?:,\s*+[^—–\n]{1,30})?\s++(?:--|—|–)\s*"
)
# "March 10, 2015 . " (CNN Student News transcripts)
_DATE_PREFIX = re.compile(r"^[A-Z][a-z]+\.? \d{1,2}, \d{4}\s*[.:\-—–]\s+")
# "By . Jane Doe . " and "By . Jane Doe . and . John Roe . " (Daily Mail)
_BYLINE_DOTTED = re.compile(
    r"^By\s++\.\s++[^.\s][^.\n]{0,79}?\s+\.\s++(?:(?:and|&)\s++\.?\s*+[^.\s][^.\n]{0,79}?\s+\.\s++)*"
)
# Names and the separators between them cannot overlap ("and" needs spaces around it, a
# name's letters are taken possessively), so a long run of "AandAand..." cannot backtrack.
_NAME = r"(?:[A-Z][\w'’\-]*+\.?)(?:\s+(?:[A-Z][\w'’\-]*+\.?|de|van|von|der|al|bin|da|la)){0,4}"
_NAMES = rf"{_NAME}(?:(?:\s*+,\s*+|\s++(?:and|&)\s++){_NAME})*"
# "By Jane Doe, CNN" / "By Jane Doe and John Roe, for CNN" / "By Jane Doe | Reuters"
_BYLINE_OUTLET = re.compile(
    rf"^By\s+{_NAMES}\s*+(?:,|\||—|–|-)\s*+(?:for\s++)?{_OUTLET}"
    r"(?:\s+Updated\s+[^.\n]{0,60}\.)?\s*(?:\n|$|(?=[A-Z(“\"]))"
)
# A line that is only "By Jane Doe" (optionally ", Staff Writer")
_BYLINE_LINE = re.compile(rf"^By\s+{_NAMES}[ \t]*+(?:\.[ \t]*+)?$", re.MULTILINE)
_TIMESTAMP = re.compile(
    r"(?:PUBLISHED|UPDATED|Published|Updated|Last updated)\s*+:?\s*+\.?\s*+"
    r"\d{1,2}:\d{2}(?:\s*+[AaPp]\.?[Mm]\.?)?\s*+(?:[A-Z]{2,4})?,?\s*+"
    r"(?:\d{1,2}\s++[A-Z][a-z]+|[A-Z][a-z]+\s++\d{1,2},?)\s++\d{4}\s*+\.?\s*+\|?\s*+\.?\s*+"
)
_PROMPT = re.compile(
    r"(?i:\bscroll\s+down\s+for\s+(?:the\s+)?(?:videos?|more)\b|\bclick\s+here\s+to\s+watch\s+video\b)"
    r"\s*[.:]?\s*"
)
_READ_MORE = re.compile(
    r"(?:(?<=^)|(?<=[.!?\"”]\s)|(?<=\n))(?:READ MORE|Read [Mm]ore|See [Mm]ore|RELATED|Related|"
    r"MORE|WATCH|Watch|PHOTOS|Photos|VIDEO|Video)\s*:[^\n]*?(?:\s\.(?=\s|$)|\n|$)"
)
_PHOTO_PAREN = re.compile(
    r"(?:(?<!\s)\s++)?\((?:Photo|Image|Picture|Photograph|Credit|Pictured|Video)s?\b[^()\n]{0,120}\)",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(
    r"^[ \t]*+(?:Image (?:copyright|caption|source)|Photo(?:graph)?(?: credit)?|Picture|Credit|"
    r"Getty Images|AFP|Reuters|AP Photo)\b[^\n]{0,160}$",
    re.MULTILINE,
)
# "Hero: Jane Doe, 67, at the ceremony on Friday ." (a Daily Mail caption) or
# "Opinion: Why the vote matters ." (a related link): a short label, a colon, and the
# paragraph's detached full stop. "Police said: ..." is speech, not a label.
_LABELLED_PARAGRAPH = re.compile(
    r"^(?:[A-Z][a-z]+(?:[ -][a-z]+){0,2}|[A-Z][a-z]+ [A-Z][a-z]+): [^\n]*\s\.\s*$"
)
_SPEECH_VERB = re.compile(
    r"\b(?:said|says|told|tells|added|adds|explained|wrote|writes|asked|asks|replied|"
    r"tweeted|warned|insisted|stated|declared|continued|announced|agreed|joked)\b"
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")

_BOILERPLATE_SENTENCE = re.compile(
    r"(?i:"
    r"^\s*click\s+here\b|^\s*scroll\s+down\b|^\s*read\s+more\b|^\s*see\s+more\b"
    r"|^\s*(?:image|photo|picture)\s+(?:copyright|caption|credit|source)"
    r"|^\s*(?:photo(?:graph)?|picture|credit|pictured)\s*:"
    r"|\bwe\s+use\s+cookies\b|\b(?:accept|consent\s+to|use\s+of|enable)\s+(?:all\s+)?cookies\b"
    r"|\bcookie\s+(?:policy|settings|preferences)\b|\bby\s+continuing\s+to\s+(?:use|browse)\b"
    r"|\bsign\s+up\s+(?:for|to)\s+(?:our|the)\b[^.]{0,60}\bnewsletter|\bsubscribe\s+to\s+our\b"
    r"|\bnewsletter\b[^.]{0,80}\b(?:inbox|sign\s+up|subscribe)\b"
    r"|\b(?:sign\s+up|subscribe)\b[^.]{0,80}\bnewsletter\b"
    r"|^\s*follow\s+(?:us|@\w+)\s+on\s+(?:twitter|facebook|instagram)"
    r"|^\s*(?:like|follow)\s+us\s+on\b"
    r"|\bcontributed\s+to\s+this\s+(?:report|story|article)\b"
    r"|\bviews\s+expressed\s+in\s+this\s+(?:commentary|article|column)\b"
    r"|\ball\s+rights\s+reserved\b|^\s*copyright\s+(?:\d{4}|©)"
    r"|^\s*(?:published|updated|last\s+updated)\s*:?\s*\d"
    r"|\benable\s+javascript\b|\byour\s+browser\s+does\s+not\s+support\b"
    r")"
)


def _clean_line(line: str) -> str:
    line = line.strip()
    line = _TIMESTAMP.sub("", line)
    for pattern in (
        _BYLINE_DOTTED,
        _BYLINE_OUTLET,
        _TIMESTAMP,
        _DATELINE_PAREN,
        _DATELINE_PLACE,
        _DATELINE_CAPS,
        _DATE_PREFIX,
        _TIMESTAMP,
    ):
        line = pattern.sub("", line, count=1).lstrip(" .|")
    line = _PROMPT.sub("", line)
    line = _READ_MORE.sub("", line)
    line = _PHOTO_PAREN.sub("", line)
    return _SPACES.sub(" ", line).strip()


def clean_text(text: str) -> str:
    """``text`` without datelines, bylines, timestamps, prompts and photo credits.

    Line and paragraph breaks are kept (blank-line runs collapse to one blank line).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BYLINE_LINE.sub("", text)
    text = _CREDIT_LINE.sub("", text)
    lines = [_clean_line(line) for line in text.split("\n")]
    cleaned = "\n".join(lines).strip()
    return _BLANK_LINES.sub("\n\n", cleaned)


def is_boilerplate(sentence: str) -> bool:
    """True for a sentence that is page furniture rather than news: a banner, a credit,
    a labelled caption or related link."""
    if _BOILERPLATE_SENTENCE.search(sentence):
        return True
    labelled = _LABELLED_PARAGRAPH.match(sentence)
    return bool(labelled) and not _SPEECH_VERB.search(sentence[: sentence.index(":")])
