"""What every family's statements are made of: records to column values and rows back to
records, the WHERE clauses (a PostFilter's among them), an INSERT of a record, a count."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any, Sequence, TypeVar

from forum.model import PostFilter, iso
from forum.store.shared import POST_EQUALITY_FIELDS
from forum.store.codec import from_plain

T = TypeVar("T")

LIST_COLUMNS = frozenset({"roles", "specialties", "categories", "helpers", "ratings"})


def _to_sql(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _from_row(cls: type[T], row: sqlite3.Row) -> T:
    # The values in column order, not row[name]: a Row finds a name by comparing it with each
    # column's in turn, which for a post's forty columns was 7% of a never-seen search.
    data = dict(zip(row.keys(), row))
    for key in LIST_COLUMNS.intersection(data):
        data[key] = json.loads(data[key])
    return from_plain(cls, data)


def _where(clauses: list[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _equal(values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """A `column = ?` clause and its parameter for each value given (None sets no condition)."""
    given = {column: value for column, value in values.items() if value is not None}
    return [f"{column} = ?" for column in given], [_to_sql(value) for value in given.values()]


def _post_where(where: PostFilter) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and their parameters for a PostFilter (list_posts and the counts)."""
    clauses, params = _equal({column: getattr(where, column) for column in POST_EQUALITY_FIELDS})
    statuses = None if where.statuses is None else [status.value for status in where.statuses]
    for column, values in (
        ("status", statuses),
        ("category", where.categories),
        ("board", where.boards),
    ):
        if values is not None:
            clauses.append(_is_in(column, values))
            params.extend(values)
    # A post without a due time has due_at NULL, and NULL < ? is never true: due_before skips it.
    for column, compare, bound in (
        ("created_at", ">=", where.created_from),
        ("created_at", "<", where.created_before),
        ("due_at", "<", where.due_before),
        ("due_at", ">=", where.due_from),
    ):
        if bound is not None:
            clauses.append(f"{column} {compare} ?")
            params.append(_to_sql(bound))
    for column, given in (("overdue_since", where.overdue_noted), ("reminded_at", where.reminded)):
        if given is not None:
            clauses.append(f"{column} IS {'NOT ' if given else ''}NULL")
    if where.helper is not None:
        # Helpers are kept as a JSON list; json_each reads it as rows.
        clauses.append("EXISTS (SELECT 1 FROM json_each(posts.helpers) WHERE value = ?)")
        params.append(where.helper)
    return clauses, params


def _is_in(column: str, values: Sequence[Any]) -> str:
    # An empty tuple gives "IN ()", which SQLite accepts and which matches nothing.
    return f"{column} IN ({', '.join('?' for _ in values)})"


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    # Quoted, because some field names are SQL keywords (a mail's "to").
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})", [_to_sql(v) for v in values.values()]
    )


def _count(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """The number a `SELECT COUNT(*)` answers."""
    count: int = conn.execute(sql, params).fetchone()[0]
    return count
