"""``veritas audit verify``: walk the audit hash chains and report the first broken link.

Each audit table (``audit.log``, ``audit.security_events``,
``audit.disclosures``) is one chain, sealed by ``internal.seal_audit_log()``
into ``audit.seals``: each seal lists the next rows
of a chain, in chain order, with their hashes. The row at chain position
``p`` has::

    h(p) = sha256(h(p - 1) || utf8(f"{p}|{content}")),   h(0) = 32 zero bytes

where ``content`` is the row's canonical text. The database renders that
text with built-in functions only (the expressions below, the same as
``internal.audit_content``), and the hashes are recomputed here, in Python:
verification trusts none of the application's own functions, so replacing
them does not hide a change. A row edited behind the application's back no
longer matches its hash; a row deleted is named by its id, still listed in
its seal; a row inserted is in no seal, or breaks the seals' own chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

GENESIS = bytes(32)
_UTC = "to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

# The canonical content of each chained table: keep in step with
# internal.audit_content() (sql/functions/).
CONTENT: dict[str, str] = {
    "log": (
        f"jsonb_build_array(r.id, {_UTC}, r.table_schema, r.table_name, r.operation, r.row_pk, "
        "r.old_values, r.new_values, r.changed_columns, r.actor_id, r.actor_role, r.db_user, "
        "r.request_method, r.request_path, r.txid)::text"
    ),
    "security_events": (
        f"jsonb_build_array(r.id, {_UTC}, r.kind, r.user_id, r.email, r.client_addr::text, "
        "r.details)::text"
    ),
    "disclosures": (
        f"jsonb_build_array(r.id, {_UTC}, r.viewer_id, r.viewer_role, r.student_id, "
        "r.record_kind, r.record_id)::text"
    ),
}

# The sealed rows of a run of seals, in chain order, with their seal; an
# empty seal as one row of NULLs. Read a chunk of seals at a time, so that
# the sort stays in memory however long the chain.
ROWS_SQL = """
SELECT s.seal_no, s.first_position, s.prev_hash, s.last_hash,
       u.ord, u.id, r.id IS NOT NULL, u.stored, {content}
FROM audit.seals AS s
LEFT JOIN LATERAL unnest(s.row_ids, s.row_hashes) WITH ORDINALITY AS u (id, stored, ord) ON TRUE
LEFT JOIN {table} AS r ON r.id = u.id
WHERE s.chain = %s AND s.seal_no BETWEEN %s AND %s
ORDER BY s.seal_no, u.ord
"""
SEALS_SQL = """
SELECT s.seal_no, cardinality(s.row_ids) FROM audit.seals AS s
WHERE s.chain = %s AND s.seal_no > %s ORDER BY s.seal_no LIMIT 1000
"""
CHUNK_ROWS = 20000


class ChainBroken(Exception):
    """A chain does not verify; the message names the table, the row and why."""


@dataclass
class ChainReport:
    table: str
    sealed: int = 0
    unsealed: int = 0
    head_position: int = 0
    head_hash: bytes = GENESIS


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def sealed(self) -> int:
        return sum(c.sealed for c in self.chains)

    def lines(self) -> list[str]:
        out = [f"audit chain intact: {self.sealed} rows"]
        for c in self.chains:
            head = f"head {c.head_position}:{c.head_hash.hex()}" if c.head_position else "empty"
            pending = f"; {c.unsealed} not sealed yet" if c.unsealed else ""
            out.append(f"  audit.{c.table}: {c.sealed} sealed, {head}{pending}")
        return out


def row_hash(prev_hash: bytes, position: int, content: str) -> bytes:
    return hashlib.sha256(prev_hash + f"{position}|{content}".encode()).digest()


class _Walker:
    """Recomputes one chain over the rows of ROWS_SQL, chunk after chunk."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.prev, self.position = GENESIS, 0
        self.seal_no, self.seal_last = 0, GENESIS

    def _end_seal(self) -> None:
        if self.seal_no and bytes(self.seal_last) != self.prev:
            raise ChainBroken(f"audit.seals {self.table} seal {self.seal_no}: its last hash "
                              "does not match its rows (the seal was altered)")

    def feed(self, rows: Iterable[tuple[Any, ...]]) -> None:
        table = self.table
        for number, first, s_prev, s_last, ord_, row_id, present, stored, content in rows:
            if number != self.seal_no:
                self._end_seal()
                if number != self.seal_no + 1:
                    raise ChainBroken(f"audit.seals {table}: seal {self.seal_no + 1} is missing "
                                      f"before seal {number} (deleted)")
                if first != self.position + 1:
                    raise ChainBroken(f"audit.seals {table} seal {number}: it starts at "
                                      f"position {first}, not {self.position + 1} "
                                      "(a seal was altered)")
                if bytes(s_prev) != self.prev:
                    raise ChainBroken(f"audit.seals {table} seal {number}: its previous hash "
                                      "does not match the seal before it "
                                      "(a seal was altered or inserted)")
                self.seal_no, self.seal_last = number, s_last
            if ord_ is None:  # an empty seal (only its pending list changed)
                continue
            position = first + ord_ - 1
            where = f"audit.{table} row id {row_id} (chain position {position})"
            if not present:
                raise ChainBroken(f"{where}: the row is missing (deleted)")
            if row_hash(self.prev, position, content) != bytes(stored):
                raise ChainBroken(f"{where}: its content does not match its hash (edited)")
            self.prev, self.position = bytes(stored), position

    def finish(self, report: ChainReport) -> None:
        self._end_seal()
        report.sealed = report.head_position = self.position
        report.head_hash = self.prev


def _chunks(conn: psycopg.Connection, table: str) -> Iterable[tuple[int, int]]:
    """(first, last) seal numbers of runs of seals holding about CHUNK_ROWS rows."""
    after, start, rows = 0, None, 0
    while True:
        page = conn.execute(SEALS_SQL, [table, after]).fetchall()
        if not page:
            break
        for number, count in page:
            start = number if start is None else start
            rows += count
            if rows >= CHUNK_ROWS:
                yield start, number
                start, rows = None, 0
        after = page[-1][0]
    if start is not None:
        yield start, after


def verify_table(conn: psycopg.Connection, table: str) -> ChainReport:
    """Verify one chain; raises ChainBroken at its first broken link."""
    report = ChainReport(table)
    name = sql.Identifier("audit", table)
    walker = _Walker(table)
    rows_sql = sql.SQL(ROWS_SQL).format(content=sql.SQL(CONTENT[table]), table=name)
    for first, last in _chunks(conn, table):
        walker.feed(conn.execute(rows_sql, [table, first, last]).fetchall())
    walker.finish(report)

    newest = conn.execute(
        "SELECT high_water, pending_ids FROM audit.seals WHERE chain = %s "
        "ORDER BY seal_no DESC LIMIT 1",
        [table],
    ).fetchone()
    high_water, pending = (newest[0], list(newest[1])) if newest else (0, [])
    twice = conn.execute(
        sql.SQL(
            "SELECT u.id FROM audit.seals AS s, unnest(s.row_ids) AS u (id) "
            "WHERE s.chain = %s GROUP BY u.id HAVING count(*) > 1 ORDER BY u.id LIMIT 1"
        ),
        [table],
    ).fetchone()
    if twice:
        raise ChainBroken(f"audit.{table} row id {twice[0]}: it is sealed twice (a seal was "
                          "inserted)")
    stray = conn.execute(
        sql.SQL(
            "SELECT x.id FROM ("
            " SELECT r.id FROM {} AS r WHERE r.id <= %s AND r.id <> ALL (%s::bigint[])"
            " EXCEPT"
            " SELECT unnest(s.row_ids) FROM audit.seals AS s WHERE s.chain = %s"
            ") AS x ORDER BY x.id LIMIT 1"
        ).format(name),
        [high_water, pending, table],
    ).fetchone()
    if stray:
        raise ChainBroken(f"audit.{table} row id {stray[0]}: it is in no seal, though every id "
                          f"up to {high_water} was sealed or pending (inserted)")
    waiting = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM {} AS r WHERE r.id > %s OR r.id = ANY (%s::bigint[])"
        ).format(name),
        [high_water, pending],
    ).fetchone()
    report.unsealed = int(waiting[0]) if waiting else 0
    return report


ANCHOR_HEX_DIGITS = 64  # a SHA-256, whole: a shortened hash would read as a mismatch


def parse_anchor(text: str) -> tuple[str, int, bytes]:
    """``table:position:hexhash`` (as printed by a previous run) -> its parts.

    A malformed anchor (a shortened hash, an unknown table, a position that
    is not a whole number from 1) is refused here, with its own message:
    checked against the chain it would read as tampering.
    """
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(
            f"an anchor is TABLE:POSITION:HASH as printed by an earlier run "
            f"(e.g. log:1200:<64 hex digits>), not {text!r}"
        )
    table, position, digest = parts[0].removeprefix("audit."), parts[1], parts[2]
    if table not in CONTENT:
        raise ValueError(
            f"anchor {text!r}: no chained table {table!r} (one of {', '.join(CONTENT)})"
        )
    if not position.isdigit() or int(position) < 1:
        raise ValueError(f"anchor {text!r}: the position must be a whole number from 1")
    if len(digest) != ANCHOR_HEX_DIGITS or any(c not in "0123456789abcdefABCDEF" for c in digest):
        raise ValueError(
            f"anchor {text!r}: the hash must be the whole SHA-256 as printed, "
            f"{ANCHOR_HEX_DIGITS} hex digits (it has {len(digest)} characters); "
            "a shortened hash cannot be checked"
        )
    return table, int(position), bytes.fromhex(digest)


def check_anchor(conn: psycopg.Connection, anchor: tuple[str, int, bytes]) -> None:
    """A head printed earlier (kept outside the database) must still be in its chain."""
    table, position, digest = anchor
    if table not in CONTENT:
        raise ChainBroken(f"no chained table audit.{table}")
    row = conn.execute(
        "SELECT s.row_ids[%(p)s - s.first_position + 1], "
        "s.row_hashes[%(p)s - s.first_position + 1] FROM audit.seals AS s "
        "WHERE s.chain = %(t)s AND s.first_position <= %(p)s "
        "AND %(p)s < s.first_position + cardinality(s.row_ids)",
        {"t": table, "p": position},
    ).fetchone()
    if row is None:
        raise ChainBroken(
            f"audit.{table}: anchored position {position} is gone (rows were removed)"
        )
    if bytes(row[1]) != digest:
        raise ChainBroken(
            f"audit.{table} row id {row[0]} (chain position {position}): its hash differs from "
            "the anchor (the chain was rewritten)"
        )


def verify(admin_url: str, anchors: Iterable[tuple[str, int, bytes]] = ()) -> VerifyReport:
    """Verify every chain in one consistent snapshot; raises ChainBroken."""
    with psycopg.connect(admin_url, connect_timeout=10) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        report = VerifyReport([verify_table(conn, table) for table in CONTENT])
        for anchor in anchors:
            check_anchor(conn, anchor)
    return report
