"""Fuzz the API from its own OpenAPI document: no answer may be a 5xx.

    python bench/fuzz.py [--examples 25]

Starts a private stack (bench/stack.py), loads the demo data, and runs
schemathesis (pip install schemathesis) against /openapi.json once per role
(anonymous, student, teacher, admin, integration), with the
``not_a_server_error`` check only: 4xx answers to nonsense are expected,
a 5xx is a bug.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import stack
from glue import demo, users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=25)
    args = parser.parse_args()
    if not shutil.which("schemathesis"):
        sys.exit("schemathesis is needed: pip install schemathesis")
    failures = 0
    with stack() as s:
        demo.load_if_empty(s.admin_url)
        users.add_user(s.admin_url, "fuzz-service@veritas.test", demo.DEMO_PASSWORD,
                       "integration", "Fuzz Service")
        logins = {"student": "student01@veritas.test", "teacher": "ada.lovelace@veritas.test",
                  "admin": "admin@veritas.test", "integration": "fuzz-service@veritas.test"}
        tokens: dict[str, str | None] = {"anonymous": None}
        for role, email in logins.items():
            answer = httpx.post(f"{s.base_url}/auth/login",
                                json={"email": email, "password": demo.DEMO_PASSWORD}, timeout=30)
            tokens[role] = answer.json()["access_token"]
        for role, token in tokens.items():
            command = ["schemathesis", "run", f"{s.base_url}/openapi.json",
                       "-c", "not_a_server_error", "--max-examples", str(args.examples),
                       "--request-timeout", "10", "--suppress-health-check", "all"]
            if token:
                command += ["-H", f"Authorization: Bearer {token}"]
            done = subprocess.run(command, capture_output=True, text=True)
            tail = "\n".join(done.stdout.strip().splitlines()[-6:])
            print(f"== {role}: exit {done.returncode}\n{tail}\n")
            if done.returncode != 0:
                failures += 1
                Path(f"/tmp/veritas-fuzz-{role}.log").write_text(done.stdout + done.stderr)
    if failures:
        sys.exit(f"{failures} role(s) met a server error; logs in /tmp/veritas-fuzz-*.log")


if __name__ == "__main__":
    main()
