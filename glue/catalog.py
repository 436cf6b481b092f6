"""The catalog of callable functions: the ``api`` schema, read from pg_catalog,
and the one statement that calls an entry of it.

Names, argument names and types, and volatility come from the database at
start-up and again on ``NOTIFY veritas_reload`` (sent by every migrate; read
by glue/reload.py); a request only ever selects an entry of this catalog by
name, never supplies SQL.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

API_SCHEMA = "api"
RELOAD_CHANNEL = "veritas_reload"
# Set (transaction-local) by a function that answered one page of several:
# the JSON object of the arguments that change for the next page.
NEXT_PAGE_SETTING = "response.next_page"

CATALOG_SQL = """
SELECT p.proname,
       coalesce(p.proargnames[1:p.pronargs], '{}'::text[]) AS arg_names,
       coalesce(array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t), '{}')
           AS arg_types,
       p.pronargdefaults,
       p.provolatile,
       format_type(p.prorettype, NULL) AS returns,
       p.proretset,
       coalesce(obj_description(p.oid, 'pg_proc'), '') AS comment
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = %s AND p.prokind = 'f'
ORDER BY p.proname
"""


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class Function:
    name: str
    arguments: tuple[Argument, ...]
    volatility: str  # 'i' immutable, 's' stable, 'v' volatile
    returns: str
    returns_set: bool
    comment: str

    @property
    def read_only(self) -> bool:
        return self.volatility in ("i", "s")

    def argument(self, name: str) -> Argument | None:
        return next((a for a in self.arguments if a.name == name), None)


class ArgumentError(ValueError):
    """The arguments do not fit the function; the message says how."""


@dataclass
class Catalog:
    functions: dict[str, Function] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: psycopg.AsyncConnection[Any]) -> Catalog:
        rows = await (await conn.execute(CATALOG_SQL, [API_SCHEMA])).fetchall()
        functions: dict[str, Function] = {}
        for name, arg_names, arg_types, n_defaults, volatility, returns, retset, comment in rows:
            if name in functions:  # overloads are not part of our API: first one wins
                continue
            first_default = len(arg_types) - n_defaults
            arguments = tuple(
                Argument(arg_name, arg_type, index < first_default)
                for index, (arg_name, arg_type) in enumerate(
                    zip(arg_names, arg_types, strict=False)
                )
            )
            functions[name] = Function(name, arguments, volatility, returns, retset, comment)
        return cls(functions)

    def get(self, name: str) -> Function | None:
        return self.functions.get(name)


class JsonText(str):
    """A JSON argument passed on as the client sent it: the database parses
    it (its ``::jsonb`` cast; malformed JSON is 22P02, 400), so the glue
    neither parses nor renders it again (glue/dispatch.py, ``body_arg``)."""


def _param(argument: Argument, value: Any) -> Any:
    if isinstance(value, JsonText) and argument.type in ("json", "jsonb"):
        return str(value)
    if argument.type in ("json", "jsonb"):
        return Jsonb(value)
    if isinstance(value, dict | list) and not argument.type.endswith("[]"):
        raise ArgumentError(f"argument {argument.name} must be a {argument.type}, not JSON")
    return value


@functools.lru_cache(maxsize=2048)
def _statement_text(function: Function, names: tuple[str, ...]) -> str:
    """The statement for these argument names, rendered once and reused (the
    driver then also reuses its parse of the text)."""
    parts = [
        sql.SQL("{} => %s::{}").format(sql.Identifier(a.name), sql.SQL(a.type))
        for a in function.arguments
        if a.name in names
    ]
    target = sql.SQL("{}.{}({})").format(
        sql.Identifier(API_SCHEMA), sql.Identifier(function.name), sql.SQL(", ").join(parts)
    )
    # The database renders the JSON text: the glue passes it through untouched.
    # The second column is read after the call (the target list is evaluated
    # in order, an aggregate's after its scan): the next page's arguments, if
    # the function answered one page of several (glue/pages.py).
    next_page = sql.SQL("current_setting({}, true)").format(sql.Literal(NEXT_PAGE_SETTING))
    if function.returns_set:
        statement = sql.SQL(
            "SELECT coalesce(json_agg(r), '[]'::json)::text, {} FROM {} AS r"
        ).format(next_page, target)
    else:
        statement = sql.SQL("SELECT to_json({})::text, {}").format(target, next_page)
    return statement.as_string(None)


def call_statement(function: Function, args: dict[str, Any]) -> tuple[str, list[Any]]:
    """``SELECT to_json(api.f(a => %s::type, ...))::text, <next page>`` for the given
    named arguments."""
    unknown = sorted(set(args) - {a.name for a in function.arguments})
    if unknown:
        raise ArgumentError(f"{function.name} has no argument named {', '.join(unknown)}")
    missing = [a.name for a in function.arguments if a.required and a.name not in args]
    if missing:
        raise ArgumentError(f"{function.name} needs the argument {', '.join(missing)}")
    given = tuple(a for a in function.arguments if a.name in args)
    params = [_param(a, args[a.name]) for a in given]
    return _statement_text(function, tuple(a.name for a in given)), params
