"""The new text of a reply: without the quoted history, the signature, or the HTML.

The libraries do the heavy lifting, each where it is strong:

- quotequail finds where quoting starts in plain text (Gmail / Apple Mail attribution lines in
  English, German, French and Spanish, even when Gmail wraps them over two lines; "-----Original
  Message-----"; Outlook's underscore rule) and, for HTML-only mails, unwraps Gmail's
  `gmail_quote`, Outlook's `divRplyFwdMsg` and Apple's `blockquote type=cite`.
- mail-parser-reply, given explicit languages, splits at Outlook header blocks without `>`
  ("Von: / Gesendet: / An: / Betreff:", "De : / Envoyé : / À : / Objet :", "De: / Enviado: /
  Para: / Asunto:") and finds signatures.

Two guards of our own protect opt-out recall. mail-parser-reply treats a line starting with
"Thanks," or "- " as the start of a signature, which would drop "Thanks, but please remove me
from your list"; its cut is kept only when the signature starts with a real closing line. And
a reply written below the quote (bottom-posting) is recovered from the unquoted lines.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import quotequail
from mailparser_reply import EmailMessage

LANGUAGES = ("en", "de", "fr", "es")

_SENT_FROM = re.compile(
    r"^\s*(?:sent from my\b|get outlook for\b|von meinem .{1,40} gesendet|gesendet von meinem\b|"
    r"envoy[ée] de(?:puis)? mon\b|enviado desde mi\b).*$",
    re.IGNORECASE | re.MULTILINE,
)
_CLOSING_RULE = re.compile(r"^\s*(?:--|__|-- )\s*$")
_SENTENCE_END = re.compile(r"[.!?]\s*$")
_POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\.?(?:\s|:|$)", re.IGNORECASE)
_QUOTED_LINE = re.compile(r"^\s*>", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
# A literal every quotequail 0.5 reply / forward pattern contains (attribution verbs in its
# languages, forward banners, Outlook's underscore rule, the "2024/01/08 Name <addr>" form).
_QUOTE_MARKERS = re.compile(
    r"wrote|schrieb|crit|escribi|написал|skrev|escreveu|schreef|geschreven|message|nachricht|"
    r"mensaje|bericht|meddelande|сообщение|weitergeleitet|_{32}|^\s*>|\d{4}/\d{1,2}/\d{1,2}",
    re.IGNORECASE | re.MULTILINE,
)


def extract_new_text(body: str, html: str | None = None) -> str:
    """The text the sender just wrote: quoted history, signature and markup removed."""
    text = _normalise(body)
    if not text.strip() and html and html.strip():
        text = _normalise(html_to_text(_html_reply_part(html)))
    if not text.strip():
        return ""
    new = _above_quote(text)
    if not new and _QUOTED_LINE.search(text):
        new = _unquoted_lines(text)
    return new


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _message(text: str) -> EmailMessage:
    return EmailMessage(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()


def _above_quote(text: str) -> str:
    """The text before the first quoted part (empty when the mail starts with one)."""
    top = _before_quotequail_quote(text)
    if not top.strip():
        return ""
    message = _message(top)
    first = message.replies[0]
    if first.headers:  # the text begins with a header block: nothing new above it
        return ""
    return _without_signature(first.content, message.SIGNATURE_REGEX)


def _before_quotequail_quote(text: str) -> str:
    """The text above quotequail's quote start.

    quotequail tests ~50 patterns on every line until one matches, so its cost grows with the
    length of the reply. Each of its patterns contains one of the `_QUOTE_MARKERS`, and an
    attribution wraps over at most two lines, so it only needs to see the text from the line
    before the first marker on.
    """
    marker = _QUOTE_MARKERS.search(text)
    if marker is None:
        return text
    lines = text.split("\n")
    start = max(0, text.count("\n", 0, marker.start()) - 1)
    parts = quotequail.quote("\n".join(lines[start:]), quote_intro_line=True)
    if len(parts) < 2:
        return text
    return "\n".join([*lines[:start], parts[0][1]])


def _unquoted_lines(text: str) -> str:
    """A reply written below or between the quoted lines."""
    message = EmailMessage(text=text, languages=list(LANGUAGES))
    without_headers = message.HEADER_REGEX.sub("\n", message.text)
    kept = [line for line in without_headers.split("\n") if not _QUOTED_LINE.match(line)]
    reply = _message("\n".join(kept))
    return _without_signature(reply.replies[0].content, reply.SIGNATURE_REGEX)


def _without_signature(content: str, signatures: re.Pattern[str]) -> str:
    """`content` cut at the first signature candidate that starts with a closing line."""
    body = "\n".join(line for line in content.split("\n") if not _QUOTED_LINE.match(line))
    candidate = signatures.search(body)
    while candidate is not None:
        if _is_closing(candidate.group()):
            body = body[: candidate.start()] + _postscript(candidate.group())
            break
        # not a closing line ("Thanks, but please remove me"): look below that line
        text = candidate.group()
        first_line = candidate.start() + len(text) - len(text.lstrip())
        next_line = body.find("\n", first_line)
        candidate = signatures.search(body, next_line + 1) if next_line >= 0 else None
    body = _SENT_FROM.sub("", body)
    return _BLANK_RUNS.sub("\n\n", body).strip()


def _is_closing(signature: str) -> bool:
    """Whether a signature candidate starts with a closing line, not a sentence of the reply."""
    first = next((line for line in signature.split("\n") if line.strip()), "")
    if _CLOSING_RULE.match(first) or _SENT_FROM.match(first):
        return True
    return len(first.split()) <= 6 and not _SENTENCE_END.search(first)


def _postscript(signature: str) -> str:
    """A "P.S." below the signature is new text too ("P.S. please remove me from the list")."""
    lines = signature.split("\n")
    for i, line in enumerate(lines):
        if _POSTSCRIPT.match(line):
            return "\n\n" + "\n".join(lines[i:])
    return ""


def _html_reply_part(html: str) -> str:
    """The HTML above the quoted message."""
    try:
        unwrapped = quotequail.unwrap_html(html)
    except Exception:  # malformed markup: fall back to reading all of it as text
        return html
    if unwrapped is None:
        return html
    top: str = unwrapped.get("html_top", "")
    return top


_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"),
        *("h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section"),
        *("table", "td", "th", "tr", "ul"),
    }
)
_SKIPPED = frozenset({"script", "style", "head", "title", "template"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: block elements become line breaks."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
