"""The new text of a reply: without the quoted history, the signature, or the HTML.

The text above the first quote marker (see `quotes`) is what the sender wrote. When the quote
is `>`-quoted, answers written below it or between its lines are new text too ("> Are you
interested?" / "No."), while the `>` lines and attributions among them are dropped; below a
separator or an Outlook header block everything is the old message. The signature and the
mobile footer of each part are cut (see `signature`). An HTML-only mail is first turned into
the text its client would have sent (see `htmltext`).

The reply parsers on PyPI were tried first: they missed a third of the formats this module
reads (Outlook blocks with French spacing, Android and "Reply Message" separators, an
attribution at the end of the reply's line, answers below a quoted greeting) and their
patterns run over the whole message, one of them in quadratic time. Here every pattern sees
one line of bounded length, and the input is bounded too, so extraction is linear.
"""

from __future__ import annotations

from syncd.replies.htmltext import html_to_text
from syncd.replies.quotes import Kind, Marker, candidate_lines, first_marker, is_quoted, marker_at
from syncd.replies.signature import strip_signature

__all__ = ["DEFAULT_MAX_CHARS", "extract_new_text", "html_to_text"]

DEFAULT_MAX_CHARS = 100_000
MAX_ANSWER_LINES = 5_000  # lines read below a quote for answers written between its lines


def extract_new_text(
    body: str, html: str | None = None, *, max_chars: int = DEFAULT_MAX_CHARS
) -> str:
    """The text the sender just wrote; only the first `max_chars` of each body are read."""
    text = _normalise(body[:max_chars])
    if not text.strip() and html and html.strip():
        text = html_to_text(html[:max_chars])
    if not text.strip():
        return ""
    lines = text.split("\n")
    candidates = candidate_lines(text)
    marker = first_marker(lines, candidates)
    if marker is None:
        return _tidy(strip_signature(text))
    top = lines[: marker.line] + ([marker.keep] if marker.keep else [])
    answers = [] if marker.kind is Kind.HARD else _answers(lines, marker, set(candidates))
    parts = (strip_signature("\n".join(part)) for part in (top, answers) if part)
    return _tidy("\n\n".join(part for part in parts if part.strip()))


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _answers(lines: list[str], marker: Marker, candidates: set[int]) -> list[str]:
    """Unquoted lines written below or between `>`-quoted ones (bottom-posting, inline)."""
    out: list[str] = []
    seen_quote = marker.kind is Kind.QUOTED
    i = marker.line + marker.length
    end = min(len(lines), i + MAX_ANSWER_LINES)
    while i < end:
        line = lines[i]
        if not line.strip():
            out.append("")
            i += 1
            continue
        if i not in candidates:
            if not seen_quote:
                break
            if not _is_broken_quote_line(lines, i):
                out.append(line)
            i += 1
            continue
        if is_quoted(line):
            seen_quote = True
            i += 1
            continue
        found = marker_at(lines, i)
        if found is not None:
            if found.kind is Kind.HARD:
                break
            if found.keep and seen_quote:
                out.append(found.keep)
            i += found.length
            continue
        if not seen_quote:
            break  # an attribution followed by the old message without `>`: all of it is old
        if not _is_broken_quote_line(lines, i):
            out.append(line)
        i += 1
    return out


def _is_broken_quote_line(lines: list[str], i: int) -> bool:
    """A quoted link that a client wrapped without its `>` (" (https://…) >")."""
    text = lines[i].strip()
    wrapped_link = text.endswith(" >") or text.startswith(("(http", "<http"))
    return wrapped_link and i + 1 < len(lines) and is_quoted(lines[i + 1])


def _tidy(text: str) -> str:
    """Trailing spaces removed, at most one blank line in a row, no blank edges."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
