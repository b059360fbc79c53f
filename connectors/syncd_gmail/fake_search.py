"""Gmail search syntax for the local Gmail: a small parser and matcher.

The fake answers `messages.list(q=...)` with the operators the connector and its admins use:
`from: to: cc: subject: label: in: is: category: has: rfc822msgid: newer_than: older_than:
after: before:`, quoted phrases, plain words, `-` negation, `OR`, `{a b}` and `( )` groups. Like
Gmail, `OR` binds tighter than the implicit AND, and an unknown `word:value` is searched as
text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class SearchSyntaxError(ValueError):
    """A query the parser cannot read (Gmail answers 400 Invalid query)."""


class Searchable(Protocol):
    """What a stored message exposes to search."""

    def header(self, name: str) -> str: ...

    @property
    def label_ids(self) -> set[str]: ...

    @property
    def internal_date(self) -> datetime: ...

    @property
    def search_text(self) -> str: ...

    @property
    def has_attachment(self) -> bool: ...


@dataclass(frozen=True)
class SearchContext:
    """Mailbox facts a query depends on: whose "me" it is, label names, the clock."""

    owner: str
    label_names: dict[str, str]  # label id -> display name
    now: datetime


Predicate = Callable[[Searchable, SearchContext], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>[({])|(?P<close>[)}])|
        (?P<neg>-)(?=\S)|
        (?P<op>[A-Za-z_]+):(?:"(?P<qval>[^"]*)"|(?P<val>[^\s(){}"]+))|
        "(?P<phrase>[^"]*)"|
        (?P<word>[^\s(){}"]+)
    )""",
    re.VERBOSE,
)
_CATEGORIES = {
    "primary": "CATEGORY_PERSONAL",
    "social": "CATEGORY_SOCIAL",
    "promotions": "CATEGORY_PROMOTIONS",
    "updates": "CATEGORY_UPDATES",
    "forums": "CATEGORY_FORUMS",
}
_SPAN = re.compile(r"^(\d+)([dmy])$")
_SPAN_DAYS = {"d": 1, "m": 30, "y": 365}
_IN_LABELS = {
    "inbox": "INBOX",
    "sent": "SENT",
    "drafts": "DRAFT",
    "draft": "DRAFT",
    "spam": "SPAM",
    "trash": "TRASH",
    "starred": "STARRED",
    "important": "IMPORTANT",
    "chats": "CHAT",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # open | close | neg | op | phrase | word | or
    op: str = ""
    value: str = ""
    group: str = ""  # "(" or "{" for open tokens


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise SearchSyntaxError(f"cannot read the query at offset {pos}")
        pos = match.end()
        if match["open"]:
            tokens.append(_Token("open", group=match["open"]))
        elif match["close"]:
            tokens.append(_Token("close", group=match["close"]))
        elif match["neg"]:
            tokens.append(_Token("neg"))
        elif match["op"]:
            value = match["qval"] if match["qval"] is not None else match["val"]
            tokens.append(_Token("op", op=match["op"].lower(), value=value))
        elif match["phrase"] is not None:
            tokens.append(_Token("phrase", value=match["phrase"]))
        elif match["word"] == "OR":
            tokens.append(_Token("or"))
        else:
            tokens.append(_Token("word", value=match["word"]))
    return tokens


class _Parser:
    """and := or+ ; or := unary ("OR" unary)* ; unary := "-" unary | atom."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.conjunction(closing=None)
        if self.peek() is not None:
            raise SearchSyntaxError("unbalanced parenthesis")
        return predicate

    def conjunction(self, closing: str | None) -> Predicate:
        parts: list[Predicate] = []
        while (token := self.peek()) is not None and token.kind != "close":
            parts.append(self.disjunction())
        if closing is not None:
            if token is None or token.kind != "close":
                raise SearchSyntaxError("missing closing parenthesis")
            self.take()
        return _all(parts)

    def disjunction(self) -> Predicate:
        options = [self.unary()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            options.append(self.unary())
        return options[0] if len(options) == 1 else _any(options)

    def unary(self) -> Predicate:
        token = self.take()
        if token.kind == "neg":
            inner = self.unary()
            return lambda m, c: not inner(m, c)
        if token.kind == "open":
            closing = ")" if token.group == "(" else "}"
            if token.group == "{":
                options: list[Predicate] = []
                while (nxt := self.peek()) is not None and nxt.kind != "close":
                    options.append(self.unary())
                if nxt is None or nxt.group != closing:
                    raise SearchSyntaxError("missing closing brace")
                self.take()
                return _any(options)
            return self.conjunction(closing=closing)
        if token.kind == "op":
            return _operator(token.op, token.value)
        if token.kind in ("phrase", "word"):
            return _text(token.value)
        raise SearchSyntaxError(f"unexpected {token.kind}")


def _all(parts: list[Predicate]) -> Predicate:
    return lambda m, c: all(p(m, c) for p in parts)


def _any(parts: list[Predicate]) -> Predicate:
    return lambda m, c: any(p(m, c) for p in parts)


def _text(value: str) -> Predicate:
    needle = value.lower().strip()
    pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)") if needle else None
    return lambda m, c: pattern is None or bool(pattern.search(m.search_text.lower()))


def normalise_label(name: str) -> str:
    """Gmail lets `label:` use '-' for the spaces and slashes in a label name."""
    return re.sub(r"[\s/]+", "-", name.strip().lower())


def _address_match(header_names: tuple[str, ...], value: str) -> Predicate:
    wanted = value.lower()

    def check(m: Searchable, c: SearchContext) -> bool:
        target = c.owner.lower() if wanted == "me" else wanted
        return any(target in m.header(h).lower() for h in header_names)

    return check


def _parse_date(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise SearchSyntaxError(f"cannot read the date {value!r}")


def _span(value: str) -> timedelta:
    match = _SPAN.match(value.lower())
    if match is None:
        raise SearchSyntaxError(f"cannot read the time span {value!r}")
    return timedelta(days=int(match[1]) * _SPAN_DAYS[match[2]])


def _label(value: str) -> Predicate:
    wanted = normalise_label(value)

    def check(m: Searchable, c: SearchContext) -> bool:
        for label_id in m.label_ids:
            name = c.label_names.get(label_id, label_id)
            if wanted in (normalise_label(name), label_id.lower()):
                return True
        return False

    return check


def _in(value: str) -> Predicate:
    where = value.lower()
    if where == "anywhere":
        return lambda m, c: True
    label_id = _IN_LABELS.get(where)
    if label_id is None:
        return _label(value)
    return lambda m, c: label_id in m.label_ids


def _is(value: str) -> Predicate:
    state = value.lower()
    if state == "unread":
        return lambda m, c: "UNREAD" in m.label_ids
    if state == "read":
        return lambda m, c: "UNREAD" not in m.label_ids
    if state in ("starred", "important"):
        return lambda m, c: state.upper() in m.label_ids
    raise SearchSyntaxError(f"unsupported is:{value}")


def _operator(op: str, value: str) -> Predicate:
    if op == "from":
        return _address_match(("From",), value)
    if op == "to":
        return _address_match(("To", "Cc", "Bcc"), value)
    if op in ("cc", "bcc"):
        return _address_match((op.capitalize(),), value)
    if op == "deliveredto":
        return _address_match(("Delivered-To", "To"), value)
    if op == "subject":
        needle = value.lower()
        return lambda m, c: needle in m.header("Subject").lower()
    if op == "rfc822msgid":
        wanted = value.strip("<>").lower()
        return lambda m, c: m.header("Message-ID").strip().strip("<>").lower() == wanted
    if op == "label":
        return _label(value)
    if op == "in":
        return _in(value)
    if op == "is":
        return _is(value)
    if op == "category":
        label_id = _CATEGORIES.get(value.lower())
        if label_id is None:
            raise SearchSyntaxError(f"unknown category {value!r}")
        return lambda m, c: label_id in m.label_ids
    if op == "has":
        if value.lower() == "attachment":
            return lambda m, c: m.has_attachment
        return _label(value)  # has:userlabels etc. are not needed; keep Gmail's leniency
    if op in ("newer_than", "older_than"):
        span = _span(value)
        if op == "newer_than":
            return lambda m, c: m.internal_date > c.now - span
        return lambda m, c: m.internal_date < c.now - span
    if op in ("after", "before", "newer", "older"):
        moment = _parse_date(value)
        if op in ("after", "newer"):
            return lambda m, c: m.internal_date >= moment
        return lambda m, c: m.internal_date < moment
    return _text(f"{op}:{value}")


def compile_query(query: str | None) -> Predicate:
    """Compile a Gmail search query; an empty query matches everything."""
    if not query or not query.strip():
        return lambda m, c: True
    return _Parser(_tokenize(query)).parse()
