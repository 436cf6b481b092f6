"""``veritas audit verify``: walk the audit hash chains and report the first broken link.

Each audit table (``audit.log``, ``audit.security_events``,
``audit.disclosures``) is one chain, sealed by ``internal.seal_audit_log()``
(sql/functions/audit.sql): row ``k`` of a chain holds ``chain_seq = k``, the
previous row's hash as ``prev_hash`` (32 zero bytes before the first) and::

    row_hash = sha256(prev_hash || utf8(f"{chain_seq}|{content}"))

where ``content`` is the row's canonical text. The database renders that
text with built-in functions only (the expressions below, the same as
``internal.audit_content``), and the hashes are recomputed here, in Python:
verification trusts none of the application's own functions, so replacing
them does not hide a change. A row edited behind the application's back no
longer matches its hash; a row deleted leaves a gap in the positions and a
``prev_hash`` that matches nothing; a row inserted either carries no valid
position or breaks the link after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

GENESIS = bytes(32)
_UTC = "to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

# The canonical content of each chained table: keep in step with
# internal.audit_content() in sql/functions/audit.sql.
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


class ChainBroken(Exception):
    """A chain does not verify; the message names the table, the row and why."""


@dataclass
class ChainReport:
    table: str
    sealed: int = 0
    unsealed: int = 0
    head_seq: int = 0
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
            pending = f"; {c.unsealed} not sealed yet" if c.unsealed else ""
            out.append(
                f"  audit.{c.table}: {c.sealed} sealed, head {c.head_seq}:{c.head_hash.hex()}"
                f"{pending}"
            )
        return out


def row_hash(prev_hash: bytes, chain_seq: int, content: str) -> bytes:
    return hashlib.sha256(prev_hash + f"{chain_seq}|{content}".encode()).digest()


def _verify_rows(
    table: str, rows: Iterable[tuple[int, int, bytes, bytes, str]], report: ChainReport
) -> None:
    expected, prev = 1, GENESIS
    for row_id, seq, prev_hash, stored, content in rows:
        where = f"audit.{table} row id {row_id} (chain position {seq})"
        if seq != expected:
            if seq > expected:
                missing = (
                    f"position {expected} is missing" if seq == expected + 1
                    else f"positions {expected} to {seq - 1} are missing"
                )
                raise ChainBroken(f"{where}: {missing} before it (deleted)")
            raise ChainBroken(f"{where}: position {seq} appears twice (a row was inserted)")
        if bytes(prev_hash) != prev:
            raise ChainBroken(
                f"{where}: its prev_hash does not match the row before it "
                "(a row was deleted, inserted or re-sealed before it)"
            )
        if row_hash(bytes(prev_hash), seq, content) != bytes(stored):
            raise ChainBroken(f"{where}: its content does not match its hash (edited)")
        prev = bytes(stored)
        expected += 1
    report.sealed = expected - 1
    report.head_seq = expected - 1
    report.head_hash = prev


def verify_table(conn: psycopg.Connection, table: str) -> ChainReport:
    """Verify one chain; raises ChainBroken at its first broken link."""
    report = ChainReport(table)
    name = sql.Identifier("audit", table)
    stray = conn.execute(
        sql.SQL(
            "SELECT r.id FROM {} AS r WHERE r.chain_seq IS NULL "
            "AND (r.row_hash IS NOT NULL OR r.prev_hash IS NOT NULL) ORDER BY r.id LIMIT 1"
        ).format(name)
    ).fetchone()
    if stray:
        raise ChainBroken(
            f"audit.{table} row id {stray[0]}: it carries a hash but no chain position (inserted)"
        )
    unsealed = conn.execute(
        sql.SQL("SELECT count(*) FROM {} AS r WHERE r.row_hash IS NULL").format(name)
    ).fetchone()
    report.unsealed = int(unsealed[0]) if unsealed else 0
    with conn.cursor(name=f"audit_verify_{table}") as cur:
        cur.itersize = 5000
        cur.execute(
            sql.SQL(
                "SELECT r.id, r.chain_seq, r.prev_hash, r.row_hash, {} FROM {} AS r "
                "WHERE r.chain_seq IS NOT NULL ORDER BY r.chain_seq"
            ).format(sql.SQL(CONTENT[table]), name)
        )
        _verify_rows(table, cur, report)
    return report


def parse_anchor(text: str) -> tuple[str, int, bytes]:
    """``table:position:hexhash`` (as printed by a previous run) -> its parts."""
    try:
        table, seq, digest = text.split(":")
        return table.removeprefix("audit."), int(seq), bytes.fromhex(digest)
    except ValueError:
        raise ValueError(f"an anchor is table:position:sha256-hex, not {text!r}") from None


def check_anchor(conn: psycopg.Connection, anchor: tuple[str, int, bytes]) -> None:
    """A head printed earlier (kept outside the database) must still be in its chain."""
    table, seq, digest = anchor
    if table not in CONTENT:
        raise ChainBroken(f"no chained table audit.{table}")
    row = conn.execute(
        sql.SQL("SELECT r.id, r.row_hash FROM {} AS r WHERE r.chain_seq = %s").format(
            sql.Identifier("audit", table)
        ),
        [seq],
    ).fetchone()
    if row is None:
        raise ChainBroken(f"audit.{table}: anchored position {seq} is gone (rows were removed)")
    if bytes(row[1]) != digest:
        raise ChainBroken(
            f"audit.{table} row id {row[0]} (chain position {seq}): its hash differs from the "
            "anchor (the chain was rewritten)"
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
