"""QBO's query language (reference section 4): a regex tokenizer and a recursive-descent parser.

    SELECT * [, Field...] | COUNT(*) | Field, ... FROM Entity
      [WHERE cond AND cond ...] [ORDERBY | ORDER BY Field [ASC|DESC], ...]
      [STARTPOSITION n] [MAXRESULTS n]
    cond := Field (= | < | > | <= | >=) value | Field IN (value, ...) | Field LIKE 'x%'

Keywords and entity names are case-insensitive; strings are single-quoted with \\' escapes.
There is no OR, no NOT, no expressions: QBO has none either, and a query using them is a 4000.
Evaluation lives in query_eval.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from sandbox.qbo import faults

Value = str | Decimal | bool

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<string>'(?:\\.|[^'\\])*')
    | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
    | (?P<op><=|>=|=|<|>)
    | (?P<punct>[(),*])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")
OPERATORS = ("=", "<", ">", "<=", ">=", "IN", "LIKE")
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    # None: every property (`SELECT *`); otherwise the projection.
    fields: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    order: tuple[Ordering, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise faults.query_parse_error(
                f'Encountered "{text[position]}" at column {position + 1}.'
            )
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


def parse(text: str) -> Query:
    return _Parser(tokenize(text), text).query()


class _Parser:
    def __init__(self, tokens: list[Token], text: str) -> None:
        self._tokens = tokens
        self._text = text
        self._index = 0

    # -- grammar -----------------------------------------------------------------------------

    def query(self) -> Query:
        self._expect_word("SELECT")
        count, fields = self._projection()
        self._expect_word("FROM")
        entity = self._expect_kind("word").text
        conditions: list[Condition] = []
        if self._accept_word("WHERE"):
            conditions.append(self._condition())
            while self._accept_word("AND"):
                conditions.append(self._condition())
        order: list[Ordering] = []
        if self._accept_word("ORDERBY") or (self._accept_word("ORDER") and self._expect_word("BY")):
            order.append(self._ordering())
            while self._accept_punct(","):
                order.append(self._ordering())
        paging = {"STARTPOSITION": 1, "MAXRESULTS": DEFAULT_MAX_RESULTS}
        while (token := self._peek()) is not None and token.is_word(*paging):
            self._index += 1
            paging[token.text.upper()] = int(self._expect_kind("number").text)
        if (extra := self._peek()) is not None:
            self._fail(extra)
        return Query(
            entity=entity,
            count=count,
            fields=fields,
            conditions=tuple(conditions),
            order=tuple(order),
            start_position=paging["STARTPOSITION"],
            max_results=paging["MAXRESULTS"],
        )

    def _projection(self) -> tuple[bool, tuple[str, ...] | None]:
        if self._accept_punct("*"):
            # `SELECT *, Sku FROM Item` (python-quickbooks) asks for extra fields on top of all.
            while self._accept_punct(","):
                self._expect_kind("word")
            return False, None
        token = self._peek()
        if token is not None and token.is_word("COUNT") and self._lookahead_punct(1, "("):
            self._index += 1
            for punct in "(*)":
                self._expect_punct(punct)
            return True, None
        fields = [self._expect_kind("word").text]
        while self._accept_punct(","):
            fields.append(self._expect_kind("word").text)
        return False, tuple(fields)

    def _condition(self) -> Condition:
        field = self._expect_kind("word").text
        token = self._next()
        if token.kind == "op":
            return Condition(field, token.text, (self._value(),))
        if token.is_word("IN"):
            self._expect_punct("(")
            values = [self._value()]
            while self._accept_punct(","):
                values.append(self._value())
            self._expect_punct(")")
            return Condition(field, "IN", tuple(values))
        if token.is_word("LIKE"):
            pattern = self._value()
            if not isinstance(pattern, str):
                self._fail(token)
            return Condition(field, "LIKE", (pattern,))
        self._fail(token)

    def _ordering(self) -> Ordering:
        field = self._expect_kind("word").text
        if self._accept_word("DESC"):
            return Ordering(field, descending=True)
        self._accept_word("ASC")
        return Ordering(field, descending=False)

    def _value(self) -> Value:
        token = self._next()
        if token.kind == "string":
            return _ESCAPE.sub(r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.is_word("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        self._fail(token)

    # -- token helpers ---------------------------------------------------------------------

    def _peek(self) -> Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _next(self) -> Token:
        token = self._peek()
        if token is None:
            raise faults.query_parse_error(f'Encountered "<EOF>" in "{self._text}".')
        self._index += 1
        return token

    def _lookahead_punct(self, offset: int, punct: str) -> bool:
        index = self._index + offset
        return index < len(self._tokens) and self._tokens[index].text == punct

    def _accept_word(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.is_word(word):
            self._index += 1
            return True
        return False

    def _accept_punct(self, punct: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == punct:
            self._index += 1
            return True
        return False

    def _expect_word(self, word: str) -> bool:
        token = self._next()
        if not token.is_word(word):
            self._fail(token)
        return True

    def _expect_punct(self, punct: str) -> None:
        token = self._next()
        if token.kind != "punct" or token.text != punct:
            self._fail(token)

    def _expect_kind(self, kind: str) -> Token:
        token = self._next()
        if token.kind != kind:
            self._fail(token)
        return token

    def _fail(self, token: Token) -> NoReturn:
        raise faults.query_parse_error(
            f'Encountered "{token.text}" at column {token.position + 1} in "{self._text}".'
        )
