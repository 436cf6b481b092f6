"""Running the ``veritas`` command in a process of its own, for the tests of
its long-lived commands (up, serve, worker) and of the database commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any DATABASE_URL or VERITAS_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    env.update(extra)
    return env


def veritas(*args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``veritas ARGS``, to its end; its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "glue.cli", *args], capture_output=True, text=True,
        env=env or clean_env(), timeout=timeout, cwd=ROOT,
    )


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``veritas ARGS`` in the background, stdout and stderr together."""
    return subprocess.Popen(
        [sys.executable, "-m", "glue.cli", *args], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env or clean_env(), cwd=ROOT,
    )


def wait_healthy(port: int, process: subprocess.Popen[str], within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"veritas exited with {process.returncode}:\n{out}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"/health did not answer 200 within {within} s")


def processes_naming(text: str) -> list[str]:
    """The running processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its parent) is gone for our purposes
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
