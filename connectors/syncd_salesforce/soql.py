"""A small SOQL parser for the local Salesforce: tokenizer plus recursive descent.

The fake answers whatever SOQL a client sends by parsing it into the tree below and
evaluating that tree against its records, so a query the connector gets wrong fails here as
it would against a real org (MALFORMED_QUERY), instead of matching a canned string. The
subset is the one a CRM sync uses: field lists with relationship paths, child sub-queries,
COUNT(), WHERE with AND / OR / NOT, comparisons, IN / NOT IN (lists or semi-joins), LIKE,
booleans, null, date and datetime literals, ORDER BY with NULLS FIRST / LAST, LIMIT, OFFSET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

Value = str | int | float | bool | date | datetime | None


class SoqlError(ValueError):
    """A query the real API would refuse; `code` is the errorCode it would report."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY"):
        super().__init__(message)
        self.code = code


# --- tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]  # as written, e.g. ("Account", "Name")

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class CountAll:
    """`COUNT()`: the answer is totalSize only."""


@dataclass(frozen=True)
class SubQuery:
    query: Query  # `sobject` is the child relationship name, e.g. OpportunityContactRoles


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str  # = != < <= > >=
    value: Value


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Value, ...]
    negate: bool


@dataclass(frozen=True)
class InQuery:
    """A semi-join: `Id IN (SELECT ContactId FROM OpportunityContactRole WHERE ...)`."""

    field: FieldRef
    query: Query
    negate: bool


@dataclass(frozen=True)
class Like:
    field: FieldRef
    pattern: str


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


Expr = Compare | InList | InQuery | Like | And | Or | Not
SelectItem = FieldRef | SubQuery | CountAll


@dataclass(frozen=True)
class Order:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem, ...]
    sobject: str
    where: Expr | None = None
    order_by: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        return any(isinstance(item, CountAll) for item in self.select)

    @property
    def subqueries(self) -> tuple[SubQuery, ...]:
        return tuple(item for item in self.select if isinstance(item, SubQuery))


# --- tokenizer --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | date | datetime | op | punct | eof
    text: str
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SoqlError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _unquote(literal: str, keep_like_escapes: bool) -> str:
    out: list[str] = []
    body = literal[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "%_" and keep_like_escapes:
                out.append("\\" + nxt)
            elif nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "%_":
                out.append(nxt)
            else:
                raise SoqlError(f"invalid escape sequence \\{nxt} in string literal")
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def parse_datetime(text: str) -> datetime:
    """A SOQL datetime literal (also the wire format `...000+0000`) as an aware datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC)


# --- parser -----------------------------------------------------------------------------------

_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "ASC",
    "DESC",
    "NULLS",
}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, expected: str) -> SoqlError:
        found = self.tok.text or "end of query"
        return SoqlError(
            f"unexpected token: '{found}' at column {self.tok.pos + 1} (expected {expected})"
        )

    def expect_word(self, word: str) -> None:
        if not self.tok.is_word(word):
            raise self.fail(word)
        self.advance()

    def expect_punct(self, char: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.fail(f"'{char}'")
        self.advance()

    def ident(self) -> str:
        if self.tok.kind != "ident" or self.tok.text.upper() in _KEYWORDS:
            raise self.fail("a field or object name")
        return self.advance().text

    # query := SELECT items FROM name [WHERE expr] [ORDER BY ...] [LIMIT n] [OFFSET n]
    def query(self) -> Query:
        self.expect_word("SELECT")
        items = [self.select_item()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            items.append(self.select_item())
        self.expect_word("FROM")
        sobject = self.ident()
        where = None
        if self.tok.is_word("WHERE"):
            self.advance()
            where = self.expr()
        order: list[Order] = []
        if self.tok.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            order.append(self.order_item())
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                order.append(self.order_item())
        limit = self.count_clause("LIMIT")
        offset = self.count_clause("OFFSET")
        if any(isinstance(i, CountAll) for i in items) and len(items) > 1:
            raise SoqlError("COUNT() cannot be combined with other fields")
        return Query(tuple(items), sobject, where, tuple(order), limit, offset)

    def count_clause(self, word: str) -> int | None:
        if not self.tok.is_word(word):
            return None
        self.advance()
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            raise self.fail("a non-negative integer")
        return int(self.advance().text)

    def select_item(self) -> SelectItem:
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            sub = self.query()
            self.expect_punct(")")
            if sub.subqueries:
                raise SoqlError("nested sub-queries are not supported in a sub-query")
            return SubQuery(sub)
        if self.tok.is_word("COUNT"):
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            return CountAll()
        return FieldRef(tuple(self.ident().split(".")))

    def order_item(self) -> Order:
        field = FieldRef(tuple(self.ident().split(".")))
        descending = False
        if self.tok.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last = descending  # SOQL default: nulls first ascending, last descending
        if self.tok.is_word("NULLS"):
            self.advance()
            if not self.tok.is_word("FIRST", "LAST"):
                raise self.fail("FIRST or LAST")
            nulls_last = self.advance().text.upper() == "LAST"
        return Order(field, descending, nulls_last)

    # expr := unary (AND unary)* | unary (OR unary)*   -- mixing needs parentheses, as in SOQL
    def expr(self) -> Expr:
        items = [self.unary()]
        joiner: str | None = None
        while self.tok.is_word("AND", "OR"):
            word = self.tok.text.upper()
            if joiner is not None and word != joiner:
                raise SoqlError(
                    f"unexpected token: '{self.tok.text}' at column {self.tok.pos + 1} "
                    "(use parentheses to combine AND and OR)"
                )
            joiner = word
            self.advance()
            items.append(self.unary())
        if joiner is None:
            return items[0]
        return And(tuple(items)) if joiner == "AND" else Or(tuple(items))

    def unary(self) -> Expr:
        if self.tok.is_word("NOT"):
            self.advance()
            return Not(self.unary())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            inner = self.expr()
            self.expect_punct(")")
            return inner
        return self.condition()

    def condition(self) -> Expr:
        field = FieldRef(tuple(self.ident().split(".")))
        if self.tok.kind == "op":
            op = self.advance().text
            return Compare(field, "!=" if op == "<>" else op, self.value())
        negate = False
        if self.tok.is_word("NOT"):
            self.advance()
            negate = True
            if not self.tok.is_word("IN"):
                raise self.fail("IN")
        if self.tok.is_word("IN"):
            self.advance()
            self.expect_punct("(")
            if self.tok.is_word("SELECT"):
                sub = self.query()
                self.expect_punct(")")
                return InQuery(field, sub, negate)
            values = [self.value()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                values.append(self.value())
            self.expect_punct(")")
            return InList(field, tuple(values), negate)
        if self.tok.is_word("LIKE"):
            self.advance()
            if self.tok.kind != "string":
                raise self.fail("a string pattern")
            return Like(field, _unquote(self.advance().text, keep_like_escapes=True))
        raise self.fail("an operator")

    def value(self) -> Value:
        token = self.advance()
        if token.kind == "string":
            return _unquote(token.text, keep_like_escapes=False)
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "date":
            return date.fromisoformat(token.text)
        if token.kind == "datetime":
            return parse_datetime(token.text)
        if token.is_word("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        if token.is_word("NULL"):
            return None
        self.i -= 1
        raise self.fail("a literal value")


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises SoqlError (MALFORMED_QUERY) with a column."""
    parser = _Parser(text)
    query = parser.query()
    if parser.tok.kind != "eof":
        raise parser.fail("end of query")
    return query


def like_regex(pattern: str) -> re.Pattern[str]:
    """SOQL LIKE: `%` any run, `_` one character, `\\%` / `\\_` literal, case-insensitive."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def soql_literal(value: Any) -> str:
    """Render a Python value as a SOQL literal (the fake's tests and seeding use it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{aware.microsecond // 1000:03d}Z"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


__all__ = [
    "And",
    "Compare",
    "CountAll",
    "Expr",
    "FieldRef",
    "InList",
    "InQuery",
    "Like",
    "Not",
    "Or",
    "Order",
    "Query",
    "SoqlError",
    "SubQuery",
    "Value",
    "like_regex",
    "parse",
    "parse_datetime",
    "soql_literal",
]
