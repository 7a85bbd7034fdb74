"""Read-only custom SQL rules: parsed with sqlglot, refused unless a single plain SELECT.

The rule's query reads one table, called ``data`` (the resource's own hosted table); it
returns the failing rows. Anything else (other tables, table functions, functions the
parser does not know, writes, several statements, locks) is refused when declared.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

DATA_TABLE = "data"
MAX_SQL_CHARS = 4000
# Function classes that read files or the server's state, whatever their spelling.
_REFUSED_FUNCTIONS = ("read", "file", "load", "copy", "attach", "import", "export", "sleep")
_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb"}


def _parse(sql: str) -> exp.Select:
    statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    if len(statements) != 1:
        raise ValueError("give exactly one statement")
    tree = statements[0]
    if not isinstance(tree, exp.Select):
        raise ValueError("only a single SELECT is accepted")
    return tree


def check_select(sql: str, columns: list[str]) -> str | None:
    """Why a custom SQL rule is refused, or None."""
    if len(sql) > MAX_SQL_CHARS:
        return f"the query is longer than {MAX_SQL_CHARS} characters"
    try:
        tree = _parse(sql)
    except (SqlglotError, ValueError) as exc:
        return f"not a single read-only SELECT: {str(exc).splitlines()[0][:200]}"
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, (exp.Into, exp.Lock, exp.Command, exp.Set, exp.Pragma)):
            return f"'{node.key}' is not allowed in a read-only rule"
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier) or node.db or node.catalog:
                return "read the table 'data' only"
            if node.name not in ctes and node.name != DATA_TABLE:
                return f"read the table 'data' only, not '{node.name}'"
        if isinstance(node, exp.Anonymous):
            return f"function '{node.name}' is not allowed"
        if isinstance(node, exp.Func) and any(w in node.key for w in _REFUSED_FUNCTIONS):
            return f"function '{node.key}' is not allowed"
    aliases = {a.alias for a in tree.find_all(exp.Alias)} | ctes
    for column in tree.find_all(exp.Column):
        if column.name not in columns and column.name not in aliases and column.name != "*":
            return f"no column '{column.name}' in this resource"
    return None


def compile_select(sql: str, *, table: str, dialect: str) -> str:
    """The rule's query for the dialect, reading ``table`` where it says ``data``."""
    tree = _parse(sql)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == DATA_TABLE and node.name not in ctes:
            alias = node.alias or DATA_TABLE
            return exp.Table(
                this=exp.to_identifier(table, quoted=True),
                alias=exp.TableAlias(this=exp.to_identifier(alias)),
            )
        return node

    return tree.transform(swap).sql(dialect=_DIALECTS[dialect])
