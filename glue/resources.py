"""Where the SQL and the migrations are, in a wheel or in the source tree."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    """The folder ``name``: inside the installed package, else beside it."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def sql_dir() -> Path:
    return _locate("sql")


def migrations_dir() -> Path:
    return _locate("migrations")


def sql_files(kind: str) -> list[Path]:
    """The ``.sql`` files of ``sql/<kind>/`` in name order (``sql/schema/``: the order applied)."""
    return sorted((sql_dir() / kind).glob("*.sql"))


def repeatable_files() -> list[Path]:
    """The repeatable files (functions, views, policies) in the order ``sql/repeatable.txt``
    lists them: one path relative to ``sql/`` a line, ``#`` comments."""
    lines = (sql_dir() / "repeatable.txt").read_text().splitlines()
    names = [line.split("#", 1)[0].strip() for line in lines]
    return [sql_dir() / name for name in names if name]
