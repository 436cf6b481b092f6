"""wrk replaying a list of prepared HTTP requests: the harness's load generator.

Each request is one line of a file that a Lua script (written here) reads:
method, path, bearer token and body, separated by tabs. wrk's threads take
turns through the list, each from its own offset. Two ways to run:

- ``cycle``: the list is replayed round and round for the given seconds
  (reads, autosaves, events: requests that may be repeated);
- ``once``: each request is sent exactly once, then the thread stops
  (starts and submits: a second submit of an attempt would measure a 409).

In a body, ``@@unique@@`` becomes a string no other request of any run
has (an event's ``client_event_id``: a repeat would measure the idempotent
path, not an insert).

A warm-up run of the same list may come first (``warmup`` seconds, its
figures dropped). The result: requests, rate per second, latency
percentiles, and the count of answers that were not the expected status,
which a figure is worthless without.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = r"""
local lines = {}
for line in io.lines("%(requests)s") do
  local m, p, t, b = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  lines[#lines + 1] = {m, p, t, b}
end
local n = #lines
local threads = %(threads)d
local once = %(once)s
local expect = %(expect)d
local pace = %(pace)d
local salt = "%(salt)s"
local nthread = 0
local all = {}
function setup(thread)
  thread:set("tid", nthread)
  nthread = nthread + 1
  table.insert(all, thread)
end
-- globals, read back by done() through thread:get
unexpected = 0
counted = 0
local k = 0
local quota = -1
function init(args)
  k = 0
  if once then
    quota = 0
    if tid < n then quota = math.floor((n - tid - 1) / threads) + 1 end
  end
end
function delay()
  return pace
end
request = function()
  local i
  if once then
    i = tid + k * threads + 1
    if i > n then
      -- this thread's share is sent: stop, and send something harmless meanwhile
      wrk.thread:stop()
      return wrk.format("GET", "/health")
    end
  else
    i = ((tid * 7919 + k) %% n) + 1
  end
  k = k + 1
  local r = lines[i]
  local headers = {["Content-Type"] = "application/json"}
  if r[3] ~= "" then headers["Authorization"] = "Bearer " .. r[3] end
  local body = nil
  if r[4] ~= "" then
    body = r[4]:gsub("@@unique@@", salt .. "-" .. tid .. "-" .. k)
  end
  return wrk.format(r[1], r[2], headers, body)
end
response = function(status, headers, body)
  if quota >= 0 and counted >= quota then return end
  counted = counted + 1
  if status ~= expect then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local bad, sent = 0, 0
  for _, t in ipairs(all) do
    bad = bad + t:get("unexpected")
    sent = sent + t:get("counted")
  end
  io.write(string.format(
    "JSON {\"requests\":%%d,\"seconds\":%%f,\"socket_errors\":%%d,\"unexpected\":%%d,",
    sent, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad))
  io.write(string.format(
    "\"mean_ms\":%%f,\"p50_ms\":%%f,\"p95_ms\":%%f,\"p99_ms\":%%f,\"max_ms\":%%f}\n",
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str = ""
    body: str = ""

    def line(self) -> str:
        for part in (self.method, self.path, self.token, self.body):
            if "\t" in part or "\n" in part:
                raise ValueError("a replayed request may not hold a tab or a newline")
        return f"{self.method}\t{self.path}\t{self.token}\t{self.body}\n"


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    return found


def replay(base_url: str, requests: list[Request], *, seconds: float, connections: int,
           expect: int = 200, once: bool = False, pace_ms: int = 0, warmup: float = 0,
           threads: int = 2) -> dict[str, Any]:
    """Send ``requests`` with wrk; its figures (see the module's docstring)."""
    if not requests:
        raise ValueError("nothing to replay")
    threads = max(1, min(threads, connections))
    with tempfile.TemporaryDirectory(prefix="veritas-replay-") as folder:
        listing = Path(folder) / "requests.tsv"
        listing.write_text("".join(r.line() for r in requests))
        script = Path(folder) / "replay.lua"
        script.write_text(LUA % {"requests": listing, "threads": connections if once else threads,
                                 "once": "true" if once else "false", "expect": expect,
                                 "pace": pace_ms, "salt": uuid.uuid4().hex[:12]})
        if warmup > 0 and not once:
            run_wrk(base_url, script, warmup, connections, threads)
        if not once:
            return run_wrk(base_url, script, seconds, connections, threads)
        # Every connection is its own wrk thread, so that the thread ids
        # split the list exactly. wrk reports the whole -d as its duration
        # even when every thread stopped early, so the rate comes from the
        # latencies instead: each connection sends one request after the
        # other, so together they answer connections / mean latency per second.
        result = run_wrk(base_url, script, seconds, connections, connections)
        if result["mean_ms"] > 0:
            result["rate"] = round(connections * 1000 / result["mean_ms"], 1)
        return result


def run_wrk(base_url: str, script: Path, seconds: float, connections: int,
         threads: int) -> dict[str, Any]:
    done = subprocess.run(
        [require_wrk(), "-t", str(threads), "-c", str(connections),
         "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), base_url],
        capture_output=True, text=True, check=True)
    found = re.search(r"^JSON (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no figures: {done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(found.group(1))
    result["rate"] = round(result["requests"] / result["seconds"], 1) if result["seconds"] else 0.0
    for key in ("mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "seconds"):
        if key in result:
            result[key] = round(result[key], 3)
    return result
