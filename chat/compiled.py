"""Querysets compiled to SQL once, then run with a cursor, for the statements every
handshake and every reconnect's catch-up runs (docs/performance.md, "Connecting: the
handshake's CPU cut" and "Main after stop 21"): the ORM still
writes the statement, but building and compiling it again cost more CPU than the
database took to answer it.

`build(*args)` must give the same SQL for every value of its arguments; ints and
lists of ints go in as parameters wherever `build` put them (a list's length is part
of the statement: each length is compiled once). The rows come back as the ORM reads
them, through the backend's converters (datetimes and booleans on SQLite).

On PostgreSQL these statements run prepared (`realtime.db.prepared_cursor`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from realtime.db import prepared_cursor

Arg = int | Sequence[int]

# Stand-ins for the arguments while compiling: inside every integer field's range (the
# ORM compiles an out-of-range value to "no rows", a negative one too for a positive
# field), far beyond any id, seq or count in the statements here.
MARK = 2_147_400_001
MARK_STRIDE = 10_000
# Lists longer than this are compiled at every call, not kept.
LONGEST_KEPT = 500
assert LONGEST_KEPT < MARK_STRIDE


class Compiled:
    __slots__ = ("compiler", "converters", "names", "params", "sql")

    def __init__(
        self, queryset: QuerySet[Any], using: str, marks: dict[int, tuple[int, int]]
    ) -> None:
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        found = [marks[param] for param in params if isinstance(param, int) and param in marks]
        if set(found) != set(marks.values()):
            raise ValueError("each argument must be a parameter of the statement")
        self.sql = sql
        # Each parameter: a constant, or (argument, position in it; -1 for an int).
        self.params: list[tuple[bool, Any]] = [
            (True, marks[param]) if isinstance(param, int) and param in marks else (False, param)
            for param in params
        ]
        self.compiler = compiler
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        query = queryset.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]

    def bind(self, args: Sequence[Arg]) -> list[Any]:
        bound = []
        for is_arg, value in self.params:
            if not is_arg:
                bound.append(value)
                continue
            index, position = value
            arg = args[index]
            bound.append(arg if position < 0 else arg[position])
        return bound


class CompiledRows:
    """A queryset shape, compiled once per database and argument shape."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self.compiled: dict[tuple[Any, ...], Compiled] = {}

    def statement(self, args: Sequence[Arg], using: str) -> Compiled:
        shape = (using, *(None if isinstance(arg, int) else len(arg) for arg in args))
        compiled = self.compiled.get(shape)
        if compiled is None:
            keep = all(isinstance(arg, int) or len(arg) <= LONGEST_KEPT for arg in args)
            marks: dict[int, tuple[int, int]] = {}
            marked: list[Arg] = []
            for index, arg in enumerate(args):
                base = MARK - index * MARK_STRIDE
                if isinstance(arg, int):
                    marks[base] = (index, -1)
                    marked.append(base)
                else:
                    stand_ins = [base - position for position in range(len(arg))]
                    marks.update({mark: (index, p) for p, mark in enumerate(stand_ins)})
                    marked.append(stand_ins)
            compiled = Compiled(self.build(*marked), using, marks)
            if keep:
                self.compiled[shape] = compiled
        return compiled

    def rows(self, *args: Arg, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        """The rows as tuples (`values_list`'s)."""
        compiled = self.statement(args, using)
        with prepared_cursor(connections[using]) as cursor:
            cursor.execute(compiled.sql, compiled.bind(args))
            rows: Iterator[Any] = iter(cursor.fetchall())
        if compiled.converters:
            rows = (
                tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)
            )
        return list(rows)

    def dicts(self, *args: Arg, using: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
        """The rows as dicts (`values`')."""
        names = self.statement(args, using).names
        return [dict(zip(names, row, strict=True)) for row in self.rows(*args, using=using)]
