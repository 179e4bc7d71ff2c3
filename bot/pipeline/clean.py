"""Strip news boilerplate from article text before it is summarised (pure functions).

:func:`clean_text` removes datelines, bylines, timestamps, video/read-more prompts and
photo credits from the text, and drops picture captions and headings (see
:func:`is_caption_or_heading`); :func:`is_boilerplate` recognises whole sentences that are
page furniture (cookie banners, newsletter sign-ups, "Click here", credits, disclaimers).

Paragraphs without sentence punctuation of their own are how captions, headings and bylines
show: on a web page they end bare, and in the CNN/DailyMail text release (one line per
article) they end in a detached " ." that the release appended. Each such paragraph becomes
a line of its own, so it is never glued to the next sentence.
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "is_boilerplate", "is_caption_or_heading"]

_OUTLET = r"[A-Z][\w&'’.]*(?:\s+[A-Z][\w&'’.]*){0,4}"
_DASH = r"(?:--|—|–|-|:|\|)"
_NEXT_IS_START = r"(?=[A-Z0-9\"“‘'(]|$)"
"""A dateline is followed by the start of a sentence (or nothing)."""

# "(CNN)", "(CNN) --", "LONDON (Reuters) -", "WASHINGTON, D.C. (AP) —", "(The Hollywood Reporter)"
_DATELINE_PAREN = re.compile(
    rf"^(?:[A-Z][A-Z.'’\-]+(?:[\s,]+[A-Z][A-Za-z.'’\-]+){{0,3}},?\s*)?\(\s*{_OUTLET}\s*\)"
    rf"\s*{_DASH}?\s*{_NEXT_IS_START}"
)
_WIRE = r"CNN(?: ?Money)?|AP|AFP|UPI|HLN|EW|Reuters|Bloomberg(?: News)?|Xinhua|Mashable|Variety|dpa"
# "Hong Kong (CNN)", "Sanaa, Yemen (CNN) --": a title-case place needs a known wire/outlet
_DATELINE_PLACE = re.compile(
    rf"^[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){{0,3}}(?:,\s*[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){{0,2}})?"
    rf"\s*\((?:{_WIRE})\)\s*{_DASH}?\s*{_NEXT_IS_START}"
)
# "LONDON —", "NEW YORK, March 3 (Reuters) -" (all-caps place then a dash)
_DATELINE_CAPS = re.compile(
    r"^[A-Z][A-Z'’.\-]+(?:\s+[A-Z][A-Z'’.\-]+){0,3}(?:,\s*[^—–\n]{1,30})?\s+(?:--|—|–)\s*"
)
# "March 10, 2015 . " (CNN Student News transcripts)
_DATE_PREFIX = re.compile(r"^[A-Z][a-z]+\.? \d{1,2}, \d{4}\s*[.:\-—–]\s+")
# "By . Jane Doe . " and "By . Jane Doe . and . John Roe . " (Daily Mail)
_BYLINE_DOTTED = re.compile(
    r"^By\s+\.\s+[^.\n]{1,80}?\s+\.\s+(?:(?:and|&)\s+\.?\s*[^.\n]{1,80}?\s+\.\s+)*"
)
_NAME = r"(?:[A-Z][\w'’\-]*\.?)(?:\s+(?:[A-Z][\w'’\-]*\.?|de|van|von|der|al|bin|da|la)){0,4}"
# "By Jane Doe, CNN" / "By Jane Doe and John Roe, for CNN" / "By Jane Doe | Reuters"
_BYLINE_OUTLET = re.compile(
    rf"^By\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*\s*(?:,|\||—|–|-)\s*(?:for\s+)?{_OUTLET}"
    r"(?:\s+Updated\s+[^.\n]{0,60}\.)?\s*(?:\n|$|(?=[A-Z(“\"]))"
)
# A line that is only "By Jane Doe" (optionally ", Staff Writer")
_BYLINE_LINE = re.compile(rf"^By\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*\s*\.?\s*$", re.MULTILINE)
_TIMESTAMP = re.compile(
    r"(?:PUBLISHED|UPDATED|Published|Updated|Last updated)\s*:?\s*\.?\s*"
    r"\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?\s*(?:[A-Z]{2,4})?,?\s*"
    r"(?:\d{1,2}\s+[A-Z][a-z]+|[A-Z][a-z]+\s+\d{1,2},?)\s+\d{4}\s*\.?\s*\|?\s*\.?\s*"
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
    r"\s*\((?:Photo|Image|Picture|Photograph|Credit|Pictured|Video)s?\b[^()\n]{0,120}\)",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(
    r"^\s*(?:Image (?:copyright|caption|source)|Photo(?:graph)?(?: credit)?|Picture|Credit|"
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
# Header pieces the two byline patterns above leave: "By Associated Press . ",
# "Last updated at 5:04 PM on 2nd March 2012 . ", "Created: 13:05 EST, 2 October 2012 . "
_HEADER_BYLINE_DETACHED = re.compile(
    r"^By\s+[A-Z][\w'’\-]*(?:\s+(?:[A-Z][\w'’\-]*|and|for|of|in|de|van|von)){0,7}"
    r"(?:,\s+[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,3})?\s\.(?:\s|$)"
)
_HEADER_UPDATED_AT = re.compile(
    r"^(?:Last\s+)?[Uu]pdated\s+at\s+\d{1,2}[:.]\d{2}(?:\s[AaPp]\.?[Mm]\.?)?\s+on\s+"
    r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}(?:\s\.)?(?:\s|$)"
)
_HEADER_STAMP = re.compile(
    r"^(?:Created|CREATED|Published|PUBLISHED|Updated|UPDATED|Last updated)(?:\s?:)?"
    r"(?:\s\.)?\s\d{1,2}[:.]\d{2}[^\n|]{0,40}?\d{4}(?:\s\.)?(?:\s\|)?(?:\s\.)?(?:\s|$)"
)
_DETACHED_STOP = re.compile(r"(?<=[\w)\]'’\"”%])\s\.(?:\s|$)")
"""The " ." the CNN/DailyMail release appends to a paragraph without its own full stop."""
_SENTENCE_BREAK = re.compile(r"[.!?][\"”’']?\s+(?=[\"“‘']?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    [
        *("mr", "mrs", "ms", "dr", "st", "prof", "sen", "gov", "rep", "gen", "col", "capt"),
        *("lt", "sgt", "rev", "jr", "sr", "no", "vs", "u.s", "u.k", "inc", "co", "ltd", "mt"),
    ]
)
"""Words whose full stop does not end a sentence (besides single initials)."""
_SENTENCE_END = frozenset(".!?…:;,\"”’'")
"""A paragraph ending in one of these has punctuation of its own (a comma: a line wrapped in
mid-sentence)."""
_CAPTION_CUE = re.compile(
    r"(?i:\bpictur(?:ed|es?)\b|\bphotograph(?:ed|s)?\b|\bphotos?\b|\bimages?\b"
    r"|\b(?:seen|shown)\s+here\b|\bleft\s+to\s+right\b|\bfrom\s+left\b|\binset\b"
    r"|\b(?:above|below)\s*\)|\((?:far\s+|second\s+|top\s+|bottom\s+)?"
    r"(?:left|right|centre|center|above|below|top|bottom|front|back|main)\b)"
)
_CAPTION_LABEL = re.compile(r"^[A-Z][\w'’\-]*(?:\s[\w'’\-]+){0,2}:\s")
_HEADING_WORDS = 8
"""An unpunctuated paragraph this short (in words) is a heading, byline or link."""
_PAGE_FURNITURE = re.compile(
    r"(?i:^\s*share\s+(?:this|the)\s+(?:article|story)\b"
    r"|\bnot\s+currently\s+accepting\s+comments\b|^\s*comments?\s*\(\d+\)"
    r"|^\s*(?:scroll|see|watch)\s+(?:down|below)\b)"
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


def _clean_line(line: str, drop_furniture: bool = True) -> str:
    line = _READ_MORE.sub("", _PROMPT.sub("", _strip_header(line)))
    kept = []
    for piece, unpunctuated in _paragraph_pieces(line):
        if drop_furniture and (
            _PAGE_FURNITURE.search(piece) or (unpunctuated and is_caption_or_heading(piece))
        ):
            continue
        piece = _SPACES.sub(" ", _PHOTO_PAREN.sub("", piece)).strip()
        if piece:
            kept.append(f"{piece}." if unpunctuated and piece[-1].isalnum() else piece)
    return "\n".join(kept)


def _strip_header(line: str) -> str:
    """``line`` without a leading dateline, byline or timestamps."""
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
    return _strip_more_header(line)


def _strip_more_header(line: str) -> str:
    """Remove the header pieces the byline and timestamp patterns leave, in any order."""
    while True:
        for pattern in (_HEADER_BYLINE_DETACHED, _HEADER_UPDATED_AT, _HEADER_STAMP):
            stripped = pattern.sub("", line, count=1).lstrip(" .|")
            if stripped != line:
                line = stripped
                break
        else:
            return line


def _paragraph_pieces(line: str) -> list[tuple[str, bool]]:
    """The paragraphs of one line, each with whether it lacks sentence punctuation.

    Text up to a detached stop ends in an unpunctuated paragraph, and so may the line:
    that paragraph is what follows the last sentence end before it.
    """
    chunks = _DETACHED_STOP.split(line)
    pieces: list[tuple[str, bool]] = []
    for chunk in (chunk.strip() for chunk in chunks):
        if not chunk or chunk[-1] in _SENTENCE_END:
            pieces.append((chunk, False))
            continue
        cut = _last_sentence_end(chunk)
        pieces += [(chunk[:cut].rstrip(), False), (chunk[cut:], True)]
    return [(piece, unpunctuated) for piece, unpunctuated in pieces if piece]


def _last_sentence_end(text: str) -> int:
    """Where the text after the last sentence end of ``text`` starts (0 if none)."""
    for match in reversed(list(_SENTENCE_BREAK.finditer(text))):
        before = text[max(0, match.start() - 12) : match.start()].rsplit(None, 1)
        word = before[-1] if before else ""
        if word.lower() not in _ABBREVIATIONS and not (len(word) == 1 and word.isupper()):
            return match.end()
    return 0


def clean_text(text: str) -> str:
    """``text`` without datelines, bylines, timestamps, prompts and photo credits.

    Line and paragraph breaks are kept (blank-line runs collapse to one blank line).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BYLINE_LINE.sub("", text)
    text = _CREDIT_LINE.sub("", text)
    lines = text.split("\n")
    cleaned = "\n".join(_clean_line(line) for line in lines).strip()
    if not cleaned:  # only headings or captions: keep them rather than nothing
        cleaned = "\n".join(_clean_line(line, drop_furniture=False) for line in lines).strip()
    return _BLANK_LINES.sub("\n\n", cleaned)


def is_caption_or_heading(paragraph: str) -> bool:
    """True for a paragraph without sentence punctuation of its own that is not body text:
    a picture caption ("The couple, pictured in 2010", "Hero: Jane Doe at the ceremony"), or
    a heading, byline or link (at most a few words)."""
    if len(paragraph.split()) <= _HEADING_WORDS or _CAPTION_CUE.search(paragraph):
        return True
    label = _CAPTION_LABEL.match(paragraph)
    return bool(label) and not _SPEECH_VERB.search(label.group())


def is_boilerplate(sentence: str) -> bool:
    """True for a sentence that is page furniture rather than news: a banner, a credit,
    a labelled caption or related link."""
    if _BOILERPLATE_SENTENCE.search(sentence):
        return True
    labelled = _LABELLED_PARAGRAPH.match(sentence)
    return bool(labelled) and not _SPEECH_VERB.search(sentence[: sentence.index(":")])
