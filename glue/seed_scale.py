"""``veritas seed scale``: school-scale synthetic data, for measuring reads and plans.

Runs the stages of ``sql/seed/scale.sql`` in one transaction as the DBA (an
interrupted seed leaves nothing), with a progress line per stage on stderr,
then analyses the tables it filled and refreshes the analytics views through
``internal.refresh_analytics``. Safe to re-run: a database that already holds
seeded data (accounts at ``@scale.veritas.test``) is left as it is. It
refuses a database holding accounts that are neither seeded nor demo ones
(every email outside the reserved ``.test`` domain) unless forced: a DBA
pointing ``DATABASE_URL`` at production must not mix synthetic students
into it by accident.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from typing import Any, TextIO

import psycopg

from glue import passwords, resources
from glue.admin_db import AdminDbError, connect, describe

SEED_PASSWORD = "veritas-scale-2026"
SEED_DOMAIN = "scale.veritas.test"
DEFAULT_STUDENTS = 100_000
DEFAULT_EXAMS = 200
DEFAULT_EVENTS = 10_000_000
EVENT_CHUNKS = 20

# The tables the seed fills, analysed after the commit.
SEEDED_TABLES = (
    "auth.users", "app.student_profiles", "app.teacher_profiles", "app.exams", "app.questions",
    "app.teacher_exam_permissions", "app.exam_attempts", "app.attempt_answers",
    "app.monitoring_events", "app.behavior_analyses", "app.analysis_jobs", "app.flag_reviews",
    "app.performance_metrics", "app.exam_metrics",
)

_STAGE = re.compile(r"^-- stage: (?P<name>[a-z]+)(?P<chunked> \[chunked\])?: (?P<what>.+)$",
                    re.MULTILINE)


class SeedError(AdminDbError):
    """The seed was refused or failed; the message says why (nothing was written)."""


@dataclasses.dataclass(frozen=True)
class Sizes:
    students: int = DEFAULT_STUDENTS
    exams: int = DEFAULT_EXAMS
    events: int = DEFAULT_EVENTS

    def check(self) -> None:
        """Refuses sizes the seed cannot honour (SeedError)."""
        if self.students < 1 or self.exams < 1:
            raise SeedError("--students and --exams must be 1 or more.")
        if self.events < 8:
            raise SeedError("--events must be 8 or more (at least 8 events per attempt).")


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    what: str
    sql: str
    chunked: bool


@dataclasses.dataclass
class Report:
    seeded: bool
    counts: dict[str, int]
    seconds: float = 0.0
    stage_seconds: dict[str, float] = dataclasses.field(default_factory=dict)


def stages() -> list[Stage]:
    """The stages of ``sql/seed/scale.sql``, in order."""
    text = (resources.sql_dir() / "seed" / "scale.sql").read_text()
    marks = list(_STAGE.finditer(text))
    found = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end():following.start() if following else len(text)]
        found.append(Stage(mark["name"], mark["what"], body, bool(mark["chunked"])))
    return found


class _Progress:
    """One line per stage on stderr (redrawn in place on a terminal while a
    chunked stage runs), with counts and elapsed time."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total
        self.started = time.monotonic()
        self.live = out.isatty()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:6.1f} s"

    def done(self, number: int, stage: Stage, summary: str, seconds: float) -> None:
        end = "\r\033[K" if self.live else ""
        print(f"{end}seed scale [{number}/{self.total}] {stage.name}: {summary} "
              f"({seconds:.1f} s; {self.elapsed()} in all)", file=self.out, flush=True)

    def bar(self, number: int, stage: Stage, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        line = (f"seed scale [{number}/{self.total}] {stage.name}: "
                f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
                f"({self.elapsed()} in all)")
        if self.live:
            print(f"\r\033[K{line}", end="", file=self.out, flush=True)
        else:
            print(line, file=self.out, flush=True)


def _last_result(cur: psycopg.Cursor[Any]) -> str:
    """The first column of the last result of a multi-statement execute."""
    summary = ""
    while True:
        if cur.description is not None:
            row = cur.fetchone()
            if row is not None and isinstance(row[0], str):
                summary = row[0]
        if not cur.nextset():
            return summary


def _inserted(cur: psycopg.Cursor[Any]) -> int:
    """The rows the INSERT of a multi-statement execute wrote."""
    rows = 0
    while True:
        if (cur.statusmessage or "").startswith("INSERT"):
            rows += cur.rowcount
        if not cur.nextset():
            return rows


def seeded_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """What a previous seed left: its students, teachers, exams and attempts."""
    row = conn.execute(
        """
        SELECT
            count(*) FILTER (WHERE u.role = 'student'),
            count(*) FILTER (WHERE u.role = 'teacher'),
            (SELECT count(*) FROM app.exams AS e INNER JOIN auth.users AS t
                 ON e.created_by = t.id WHERE t.email LIKE %(like)s),
            (SELECT count(*) FROM app.exam_attempts AS a INNER JOIN auth.users AS s
                 ON a.student_id = s.id WHERE s.email LIKE %(like)s)
        FROM auth.users AS u
        WHERE u.email LIKE %(like)s
        """,
        {"like": f"%@{SEED_DOMAIN}"},
    ).fetchone()
    assert row is not None
    return dict(zip(("students", "teachers", "exams", "attempts"), map(int, row), strict=True))


def real_users(conn: psycopg.Connection[Any]) -> int:
    """Accounts that are neither seeded nor demo ones: an email outside ``.test``."""
    row = conn.execute(
        "SELECT count(*) FROM auth.users WHERE lower(email) NOT LIKE '%.test'"
    ).fetchone()
    return int(row[0]) if row else 0


def _event_chunks(conn: psycopg.Connection[Any]) -> list[tuple[int, int, int]]:
    """Ranges (lo, hi, events) of seed_attempts.seq, about EVENT_CHUNKS of them."""
    rows = conn.execute(
        """
        SELECT min(c.seq), max(c.seq), sum(c.events)
        FROM (SELECT a.seq, a.events, ntile(%s) OVER (ORDER BY a.seq) AS chunk
              FROM seed_attempts AS a) AS c
        GROUP BY c.chunk ORDER BY c.chunk
        """,
        [EVENT_CHUNKS],
    ).fetchall()
    return [(int(lo), int(hi), int(n)) for lo, hi, n in rows]


def _run_stages(conn: psycopg.Connection[Any], progress: _Progress,
                report: Report) -> None:
    for number, stage in enumerate(stages(), start=1):
        began = time.monotonic()
        if stage.chunked:
            chunks = _event_chunks(conn)
            total = sum(n for _, _, n in chunks)
            done = 0
            conn.execute("CREATE TEMP TABLE seed_chunk (lo bigint, hi bigint) ON COMMIT DROP")
            conn.execute("INSERT INTO seed_chunk VALUES (0, -1)")
            conn.execute("GRANT SELECT ON seed_chunk TO veritas_owner")
            for lo, hi, _ in chunks:
                conn.execute("UPDATE seed_chunk SET lo = %s, hi = %s", [lo, hi])
                with conn.cursor() as cur:
                    cur.execute(stage.sql)
                    done += _inserted(cur)
                progress.bar(number, stage, done, total)
            report.counts[stage.name] = done
            summary = f"{done:,} rows"
        else:
            with conn.cursor() as cur:
                cur.execute(stage.sql)
                summary = _last_result(cur)
        seconds = time.monotonic() - began
        report.stage_seconds[stage.name] = round(seconds, 2)
        progress.done(number, stage, summary, seconds)


def seed_scale(admin_url: str, sizes: Sizes, force: bool = False,
               out: TextIO = sys.stderr) -> Report:
    """Fill the database with scale data of ``sizes``; a Report. Nothing is
    written when it already holds seeded data (``Report.seeded`` False), and
    SeedError when it holds real accounts and ``force`` is not given."""
    sizes.check()
    started = time.monotonic()
    with connect(admin_url) as conn:
        try:
            conn.execute("SET LOCAL statement_timeout = 0")
            conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            # The staging joins are estimated at millions of rows: compiling them
            # (JIT) would cost more than running them.
            conn.execute("SET LOCAL jit = off")
            # One seed at a time; a second waits, then finds the first's data.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('veritas.seed_scale'))")
            counts = seeded_counts(conn)
            if counts["students"] or counts["teachers"]:
                return Report(seeded=False, counts=counts)
            real = real_users(conn)
            if real and not force:
                raise SeedError(
                    f"This database holds {real} account(s) that are neither demo nor seed "
                    "accounts (emails outside .test): seed scale would mix synthetic students "
                    "into real data. Use a fresh database (veritas db reset --yes), or --force "
                    "if this one is for testing."
                )
            hashed = passwords.hash_password(SEED_PASSWORD)
            conn.execute(
                "CREATE TEMP TABLE seed_params ON COMMIT DROP AS SELECT %s::integer AS students,"
                " %s::integer AS exams, %s::bigint AS events, %s::text AS password_hash",
                [sizes.students, sizes.exams, sizes.events, hashed],
            )
            report = Report(seeded=True, counts={})
            progress = _Progress(out, len(stages()) + 1)
            _run_stages(conn, progress, report)
            conn.commit()
        except psycopg.Error as exc:
            raise SeedError(f"Seeding failed, nothing was written: {describe(exc)}") from None
        began = time.monotonic()
        try:
            conn.autocommit = True
            conn.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}")
            conn.execute("SELECT internal.refresh_analytics(TRUE)")
        except psycopg.Error as exc:
            raise SeedError(f"The data is in, but analysing or refreshing the analytics "
                            f"failed: {describe(exc)}") from None
        seconds = time.monotonic() - began
        report.stage_seconds["analyse"] = round(seconds, 2)
        final = Stage("analyse", "", "", False)
        progress.done(progress.total, final, "statistics analysed, analytics views refreshed",
                      seconds)
        report.counts.update(seeded_counts(conn))
    report.seconds = round(time.monotonic() - started, 1)
    return report
