"""The Solr query syntax CKAN clients send in ``q``, ``fq`` and ``sort``, parsed to a small tree.

Supported: ``field:value``, ``field:"a phrase"``, ``field:[A TO B]`` / ``{A TO B}`` with ``*``,
``field:(a OR b)``, ``+term``, ``-term``, ``NOT term``, ``AND`` / ``OR`` / ``&&`` / ``||``,
parentheses, ``*:*``, and bare words (they search the default field). Juxtaposed terms are
ANDed, as CKAN's harvester expects (``-organization:a metadata_modified:[X TO *]``).
The tree is pure data; the service turns it into SQL with bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 4000
MAX_TERMS = 200
MAX_DEPTH = 16

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:")
_RANGE_SPLIT = re.compile(r"\s+TO\s+")
_SORT_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?$", re.IGNORECASE)


class QuerySyntaxError(ValueError):
    """The query is not in the supported Solr syntax; the message says where and why."""


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Term:
    field: str
    value: str


@dataclass(frozen=True)
class Range:
    field: str
    low: str | None  # None: open (``*``)
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = MatchAll | Term | Range | Not | And | Or


def fields_of(node: Node) -> set[str]:
    """Every field name a tree mentions."""
    if isinstance(node, Term | Range):
        return {node.field}
    if isinstance(node, Not):
        return fields_of(node.node)
    if isinstance(node, And | Or):
        out: set[str] = set()
        for child in node.nodes:
            out |= fields_of(child)
        return out
    return set()


class _Parser:
    def __init__(self, text: str, default_field: str | None) -> None:
        self.text = text
        self.pos = 0
        self.default_field = default_field
        self.terms = 0
        self.depth = 0

    # -- scanning

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        self._skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _keyword(self, *words: str) -> bool:
        self._skip()
        for word in words:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (
                end >= len(self.text) or self.text[end].isspace() or self.text[end] == "("
            ):
                self.pos = end
                return True
        return False

    def _at_keyword(self, *words: str) -> bool:
        saved = self.pos
        found = self._keyword(*words)
        self.pos = saved
        return found

    def _error(self, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(f"{reason} at character {self.pos + 1}")

    # -- grammar

    def parse(self) -> Node:
        if not self.text.strip():
            return MatchAll()
        node = self._or()
        if self._peek():
            raise self._error(f"unexpected '{self._peek()}'")
        return node

    def _or(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"nesting deeper than {MAX_DEPTH}")
        nodes = [self._and()]
        while self._keyword("OR", "||"):
            nodes.append(self._and())
        self.depth -= 1
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def _and(self) -> Node:
        nodes: list[Node] = []
        while True:
            char = self._peek()
            if not char or char == ")" or self._at_keyword("OR", "||"):
                break
            if self._keyword("AND", "&&"):
                continue
            nodes.append(self._unary())
        if not nodes:
            raise self._error("expected a term")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def _unary(self) -> Node:
        char = self._peek()
        if char == "+":
            self.pos += 1
            return self._primary()
        if char in ("-", "!"):
            self.pos += 1
            return Not(self._primary())
        if self._keyword("NOT"):
            return Not(self._unary())
        return self._primary()

    def _primary(self) -> Node:
        char = self._peek()
        if char == "(":
            self.pos += 1
            node = self._or()
            if self._peek() != ")":
                raise self._error("missing ')'")
            self.pos += 1
            return node
        if self.text.startswith("*:*", self.pos):
            self.pos += 3
            return MatchAll()
        match = _FIELD.match(self.text, self.pos)
        if match is not None:
            self.pos = match.end()
            return self._value(match.group()[:-1])
        if self.default_field is None:
            raise self._error("expected field:value")
        return self._value(self.default_field)

    def _count(self) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self._error(f"more than {MAX_TERMS} terms")

    def _value(self, field: str) -> Node:
        self._count()
        char = self.text[self.pos] if self.pos < len(self.text) else ""
        if char == '"':
            return Term(field, self._quoted())
        if char in ("[", "{"):
            return self._range(field)
        if char == "(":
            # field:(a OR b): bare values inside belong to this field
            self.pos += 1
            saved, self.default_field = self.default_field, field
            node = self._or()
            self.default_field = saved
            if self._peek() != ")":
                raise self._error("missing ')'")
            self.pos += 1
            return node
        value = self._bare()
        if not value:
            raise self._error(f"missing value for '{field}'")
        return Term(field, value)

    def _quoted(self) -> str:
        self.pos += 1  # opening quote
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self._error("unclosed quote")

    def _bare(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace() or char in "()":
                break
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        return "".join(out)

    def _range(self, field: str) -> Range:
        opening = self.text[self.pos]
        end = -1
        for i in range(self.pos + 1, len(self.text)):
            if self.text[i] in "]}":
                end = i
                break
        if end < 0:
            raise self._error("unclosed range")
        closing = self.text[end]
        inner = self.text[self.pos + 1 : end].strip()
        parts = _RANGE_SPLIT.split(inner)
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise self._error("a range is [low TO high]")
        self.pos = end + 1
        low, high = (_bound(p) for p in parts)
        return Range(field, low, high, opening == "[", closing == "]")


def _bound(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return None if text == "*" else text


def parse(text: str, *, default_field: str | None = "text") -> Node:
    """Parse a Solr-style query. Raises QuerySyntaxError naming the place and reason."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"longer than {MAX_QUERY_CHARS} characters")
    return _Parser(text, default_field).parse()


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``"score desc, metadata_modified desc"`` -> ``[("score", True), ...]`` (True: descending)."""
    out: list[tuple[str, bool]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        match = _SORT_ITEM.match(item)
        if match is None:
            raise QuerySyntaxError(f"'{item}' is not 'field asc' or 'field desc'")
        out.append((match.group(1), (match.group(2) or "asc").lower() == "desc"))
    return out
