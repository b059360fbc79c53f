"""An HTML mail body as the plain text a mail client would have sent beside it.

Block elements become line breaks and the content of a `<blockquote>` (Gmail's
`gmail_quote`, Apple's `type="cite"`, Thunderbird's) is prefixed with `> ` per level, so
that the plain-text rules find the quote and the answers written between quotes. Outlook's
`<hr>` before its reply header becomes its plain-text underscore rule; its header block
("From:/Sent:/To:", "De :/Envoyé :/À :") stays text and is found like in plain mails.
Signature containers (`gmail_signature`, Outlook's `Signature`) and non-content elements
(style, script, head) are dropped.

lxml parses in C, linearly, and repairs any markup; the tree is walked without recursion,
so nesting depth costs nothing. Only the first `MAX_ELEMENTS` elements are read: the reply
sits at the top, and a body with more is a newsletter or a pasted page, not a reply.
"""

from __future__ import annotations

from lxml import etree

OUTLOOK_RULE = "_" * 32
MAX_ELEMENTS = 5_000

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"),
        *("h5", "h6", "header", "html", "li", "main", "nav", "ol", "p", "pre", "section"),
        *("table", "tr", "ul"),
    }
)
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_QUOTE_CLASSES = ("yahoo_quoted",)
_SIGNATURE_CLASSES = ("gmail_signature", "moz-signature")
_SIGNATURE_IDS = frozenset({"signature", "signature_compose"})


class _Writer:
    """Collects text into lines, each remembering how deep in quotes it started."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, list[str]]] = [(0, [])]
        self.depth = 0

    def text(self, value: str | None) -> None:
        if not value:
            return
        parts = self.lines[-1][1]
        if not parts:
            self.lines[-1] = (self.depth, parts)
        parts.append(value)

    def newline(self) -> None:
        """A `<br>`: always a new line, so two of them leave a blank one."""
        self.lines.append((self.depth, []))

    def break_line(self) -> None:
        """A block boundary: a new line unless the current one is still empty."""
        if self.lines[-1][1]:
            self.newline()

    def render(self) -> str:
        out: list[str] = []
        for depth, parts in self.lines:
            line = " ".join("".join(parts).split())
            if line:
                out.append("> " * depth + line)
            elif out and out[-1]:
                out.append("")
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body, quotes marked with `>` (see the module docstring)."""
    root = _parse(html)
    if root is None:
        return ""
    writer = _Writer()
    skipping: etree._Element | None = None
    events = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        events += 1
        if events > 2 * MAX_ELEMENTS:
            break
        tag = element.tag if isinstance(element.tag, str) else ""
        if skipping is not None:
            if event == "end" and element is skipping:
                skipping = None
                writer.text(element.tail)
            continue
        if event == "start":
            if tag in _SKIPPED or _is_signature(element):
                skipping = element
                continue
            _open(writer, tag, element)
            writer.text(element.text)
        else:
            _close(writer, tag, element)
            writer.text(element.tail)
    return writer.render()


def _parse(html: str) -> etree._Element | None:
    data = html.replace("\x00", "").encode("utf-8", "replace")
    if not data.strip():
        return None
    parser = etree.HTMLParser(
        encoding="utf-8", recover=True, no_network=True, remove_comments=True, remove_pis=True
    )
    try:
        return etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):  # nothing parseable at all
        return None


def _is_quote(tag: str, element: etree._Element) -> bool:
    if tag == "blockquote":
        return True
    classes = element.get("class") or ""
    return any(name in classes for name in _QUOTE_CLASSES)


def _is_signature(element: etree._Element) -> bool:
    classes = element.get("class") or ""
    ident = (element.get("id") or "").lower()
    return ident in _SIGNATURE_IDS or any(name in classes for name in _SIGNATURE_CLASSES)


def _open(writer: _Writer, tag: str, element: etree._Element) -> None:
    if tag == "br":
        writer.newline()
    elif tag == "hr":
        writer.break_line()
        writer.text(OUTLOOK_RULE)
        writer.newline()
    elif tag in _BLOCKS or _is_quote(tag, element):
        writer.break_line()
    if _is_quote(tag, element):
        writer.depth += 1


def _close(writer: _Writer, tag: str, element: etree._Element) -> None:
    if _is_quote(tag, element):
        writer.break_line()
        writer.depth = max(0, writer.depth - 1)
    if tag == "p":
        writer.break_line()
        writer.newline()  # a paragraph's margin: a blank line
    elif tag in _BLOCKS:
        writer.break_line()
    elif tag in ("td", "th"):
        writer.text(" ")
