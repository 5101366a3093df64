"""One command per benchmark scenario; results in bench/results/ and on stdout.

    python bench/run.py fanout --subscribers 1000 --rate 20
    python bench/run.py fanout --subscribers 500 --rate 100 --messages 1000
    python bench/run.py idle --connections 10000
    python bench/run.py senders --senders 100                     # all in one group
    python bench/run.py senders --senders 100 --conversations 10  # 10 groups of 10
    python bench/run.py catchup
    python bench/run.py stall        # 20 clients stop reading: bounded or not?
    python bench/run.py connect      # 1,000 token clients to `hello`, netzn and raw
    python bench/run.py connect --parallel 1000   # all 1,000 handshakes at once
    python bench/run.py storm        # 5,000 clients on 2 processes drop and come back
    python bench/run.py presence     # 1,000 people watching 50 each, 10 %/min reconnect
    python bench/run.py all          # every scenario of docs/performance.md
    python bench/run.py senders --profile /tmp/pyspy-venv/bin/py-spy   # with py-spy
    python bench/run.py fanout --app mymodule:application  # serve a variant to compare
    python bench/run.py fanout --database memory  # PostgreSQL in memory, see below
    python bench/run.py connect --loop asyncio  # plain daphne on asyncio's loop
    python bench/run.py fsync        # how long this disk takes to make a write durable

Method (docs/performance.md): the server under test is pinned to core 0 with
taskset, the load generator (bench/loadgen.py, one process) and Redis to core 1. The
netzn server is `python -m server.serve asgi:application` (daphne on uvloop, as `make
run`; `--loop asyncio` for plain daphne) with DEBUG=0 on the `netzn_bench` database;
the comparison is bench/raw_server.py on the same load. Server CPU is read from
/proc/<pid>/stat over the measured window (the generator prints marks), peak memory
from VmHWM and a VmRSS sampler. Each measurement is repeated `--runs` times
(alternating servers) and the median of each figure is reported.

Bench users come from `manage.py create_bench_users` and are cached in var/bench/
(one file per database), so repeated runs reuse them.

`--database memory` runs the servers on a PostgreSQL cluster of the bench's own in
/dev/shm (port 5434; initdb'd and started when missing, kept for later runs, gone
with a reboot together with its cached users), with production's durability
settings (fsync and synchronous_commit on). Every COMMIT waits for the disk: on this
VM's disk that is 0.3 ms typically and now and then 100-450 ms (`fsync`), which the
raw server, storing nothing, never waits for. The fan-out tail is measured both ways
(docs/performance.md, "The disk in the tail").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "var" / "bench"
# tmpfs on purpose, at a fixed place so later runs find the cluster again.
MEMORY_CLUSTER = Path("/dev/shm/netzn-bench-pg")  # noqa: S108
MEMORY_PORT = 5434
DATABASE = {"where": "disk"}  # --database memory: the cluster in MEMORY_CLUSTER
SERVER_CORE = "0"
LOADGEN_CORE = "1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BENCH_GROUP = "bench"
GROUP_USERS = 1_100  # 1,000 subscribers and up to 100 senders
NETZN_PORT = int(os.environ.get("BENCH_NETZN_PORT", "8200"))  # another bench may hold 8200
RAW_PORT = 8201
DAPHNE_OPTIONS = ["--websocket_connect_timeout", "30"]
# A venv path, not a temporary file.
UVICORN_PYTHON = os.environ.get("BENCH_UVICORN_PYTHON", "/tmp/uvicorn-venv/bin/python")  # noqa: S108

DEFAULT_ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/netzn_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/6",
    "NETZN_REDIS_PREFIX": "netzn-bench",
}


def bench_env() -> dict[str, str]:
    """The environment of the bench commands (create_bench_users needs DEBUG on)."""
    env = {**os.environ, "DEBUG": "1"}
    for key, value in DEFAULT_ENV.items():
        env.setdefault(key, value)
    return env


def server_env() -> dict[str, str]:
    """The servers under test run as in production: DEBUG off (Django then keeps no
    query log per connection), plain HTTP on loopback."""
    return {
        **bench_env(),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
    }


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def steal_seconds() -> float:
    """CPU time the hypervisor gave to others while this VM wanted it, all cores."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def host_limits(sockets: int) -> dict[str, Any]:
    """What the kernel allows this run, checked before thousands of sockets: open files
    (raised to the hard limit for this process and the servers and generator it
    starts; never system-wide) and the cap on a listen backlog. Answers them for the
    result."""
    raise_fd_limit()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < sockets + 1000:
        raise SystemExit(f"open-file limit {soft} is below the {sockets + 1000} this run needs")
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    syn_backlog = int(Path("/proc/sys/net/ipv4/tcp_max_syn_backlog").read_text())
    if somaxconn < 1024:
        log(f"warning: net.core.somaxconn={somaxconn} caps every listen backlog")
    return {"nofile": soft, "somaxconn": somaxconn, "tcp_max_syn_backlog": syn_backlog}


def listen_overflows() -> int:
    """The kernel's count of connections dropped because an accept queue was full
    (TcpExt ListenOverflows; machine-wide, so other processes' count too)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return 0


# --- users ----------------------------------------------------------------------------


def users_file(kind: str, count: int, group: str | None) -> Path:
    """A JSON-lines file with at least `count` bench users (created when missing)."""
    database = urlparse(bench_env()["DATABASE_URL"]).path.strip("/")
    cache = MEMORY_CLUSTER / "users" if DATABASE["where"] == "memory" else CACHE
    path = cache / f"users-{kind}-{database}.jsonl"
    cache.mkdir(parents=True, exist_ok=True)
    have = len(path.read_text().splitlines()) if path.exists() else 0
    if have < count:
        log(f"creating {count - have} bench users ({kind}) ...")
        command = [PYTHON, "manage.py", "create_bench_users", str(count - have)]
        if group:
            command += ["--group", group]
        output = subprocess.run(
            command, cwd=ROOT, env=bench_env(), check=True, capture_output=True, text=True
        ).stdout
        with path.open("a") as handle:
            handle.write(output)
    return path


# --- servers --------------------------------------------------------------------------


class Server:
    def __init__(
        self,
        kind: str,
        port: int,
        extra_env: dict[str, str] | None = None,
        core: str = SERVER_CORE,
    ) -> None:
        self.kind = kind
        self.port = port
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS / f"server-{kind}-{time.strftime('%H%M%S')}.log"
        if kind == "netzn":
            # `make run`'s command line: daphne's endpoint with a listen backlog of 2048
            # (Twisted's default of 50 overflows under a connection burst) and 30 s for
            # a handshake (a storm's excess waits its turn inside it).
            endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=2048"
            launcher = "server.serve" if LOOP["loop"] == "uvloop" else "daphne"
            command = [PYTHON, "-m", launcher, *DAPHNE_OPTIONS, "-e", endpoint, APP["app"]]
        elif kind == "uvicorn":
            # The same netzn application under uvicorn (uvloop, httptools, websockets),
            # from a separate venv that sees .venv's packages: an option, not the default.
            command = [UVICORN_PYTHON, "-m", "uvicorn", APP["app"], "--host"]
            command += ["127.0.0.1", "--port", str(port), "--no-access-log"]
            command += ["--lifespan", "off", "--ws", "websockets", "--loop", "uvloop"]
        else:
            command = [PYTHON, "bench/raw_server.py", "--port", str(port)]
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                ["taskset", "-c", core, *command],
                cwd=ROOT,
                env={**server_env(), **(extra_env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.code = code_version()
        self.wait_until_listening()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/"

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


PROFILE: dict[str, str] = {}  # set by --profile: py-spy binary and the output label
APP = {"app": "asgi:application"}  # --app: an experiment module serving a variant
# --loop asyncio: netzn under plain `daphne` on asyncio's own loop, to compare with
# `make run`'s `server.serve` (daphne on uvloop).
LOOP = {"loop": "uvloop"}


@contextlib.contextmanager
def running(
    kind: str,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    core: str = SERVER_CORE,
) -> Iterator[Server]:
    server = Server(kind, port or (RAW_PORT if kind == "raw" else NETZN_PORT), extra_env, core)
    profiler = None
    if PROFILE and kind != "raw":
        # Sampling profile of the whole run (collapsed stacks, for flame graphs).
        out = RESULTS / f"profile-{PROFILE['label']}-{int(time.time())}.txt"
        profiler = subprocess.Popen(
            [
                PROFILE["py_spy"],
                "record",
                "--pid",
                str(server.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--threads",
                "--nonblocking",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log(f"profiling the server into {out}")
    try:
        yield server
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        server.stop()


class RssSampler(threading.Thread):
    """The highest VmRSS seen, every 0.2 s (VmHWM alone would include start-up)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, memory_kb(self.pid).get("VmRSS", 0))


@contextlib.contextmanager
def redis_on_loadgen_core() -> Iterator[None]:
    """Pin the Redis server to the generator's core for the run, then restore it
    (`BENCH_PIN_REDIS=0`: leave a shared Redis alone)."""
    if os.environ.get("BENCH_PIN_REDIS", "1") == "0":
        yield
        return
    url = bench_env()["REDIS_URL"]
    try:
        info = subprocess.run(
            ["redis-cli", "-u", url, "info", "server"], capture_output=True, text=True, check=True
        ).stdout
        pid = next(
            line.split(":")[1].strip()
            for line in info.splitlines()
            if line.startswith("process_id:")
        )
        before = (
            subprocess.run(["taskset", "-p", pid], capture_output=True, text=True, check=True)
            .stdout.split(":")[-1]
            .strip()
        )
        subprocess.run(["taskset", "-p", "-c", LOADGEN_CORE, pid], capture_output=True, check=True)
    except (subprocess.CalledProcessError, StopIteration, FileNotFoundError) as exc:
        log(f"could not pin Redis to core {LOADGEN_CORE}: {exc}")
        yield
        return
    try:
        yield
    finally:
        subprocess.run(["taskset", "-p", before, pid], capture_output=True, check=False)


# --- one measurement ------------------------------------------------------------------


def run_loadgen(
    server: Server, scenario: str, args: list[str], also: tuple[Server, ...] = ()
) -> dict[str, Any]:
    """Run bench/loadgen.py on core 1; return its result with the server's CPU and
    memory over the measured window (CPU summed over `server` and `also`, the other
    processes of a multi-process run; memory of `server`)."""
    command = ["taskset", "-c", LOADGEN_CORE, PYTHON, "bench/loadgen.py", scenario]
    command += ["--url", server.url, *args]
    pids = [server.pid, *(other.pid for other in also)]
    sampler = RssSampler(server.pid)
    sampler.start()
    load_before = loadavg()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    marks: dict[str, tuple[float, float, float, float]] = {}
    memory_marks: dict[str, dict[str, int]] = {}
    result: dict[str, Any] = {}
    for line in process.stdout:
        data = json.loads(line)
        if "mark" in data:
            now = time.monotonic()
            server_cpu = sum(cpu_seconds(pid) for pid in pids)
            marks[data["mark"]] = (now, server_cpu, cpu_seconds(process.pid), steal_seconds())
            memory_marks[data["mark"]] = memory_kb(server.pid)
            if data["mark"] == "idle_ready":
                result.update(data)
        elif "result" in data:
            result.update(data["result"])
    if process.wait() != 0:
        raise RuntimeError(f"loadgen failed ({process.returncode})")
    sampler.done.set()
    sampler.join()
    start, end = marks.get("measure_start"), marks.get("measure_end")
    if start and end and end[0] > start[0]:
        wall = end[0] - start[0]
        result["server_cpu_s"] = round(end[1] - start[1], 2)
        result["server_cpu_pct"] = round(100 * (end[1] - start[1]) / wall, 1)
        # CPU per unit of work: robust against other processes competing for the core.
        if result.get("received_at_deadline"):
            work = result["received_at_deadline"]
            result["server_cpu_us_per_delivery"] = round(1e6 * (end[1] - start[1]) / work, 1)
        if result.get("persisted"):
            work = result["persisted"]
            result["server_cpu_ms_per_message"] = round(1e3 * (end[1] - start[1]) / work, 2)
        result["loadgen_cpu_pct"] = round(100 * (end[2] - start[2]) / wall, 1)
        # Of the machine's cores (100 % = all of them): a noisy host's share.
        cores = os.cpu_count() or 1
        result["steal_pct"] = round(100 * (end[3] - start[3]) / (wall * cores), 1)
    memory = memory_kb(server.pid)
    result["server_peak_rss_mb"] = round(max(sampler.peak, memory["VmRSS"]) / 1024, 1)
    result["server_hwm_mb"] = round(memory["VmHWM"] / 1024, 1)
    result["memory_marks_kb"] = memory_marks
    result["server"] = server.kind
    result["code"] = server.code
    result["app"] = APP["app"]
    if server.kind == "netzn":
        result["loop"] = LOOP["loop"]
    result["database"] = DATABASE["where"]
    result["profiled"] = bool(PROFILE)  # py-spy's sampling costs the server CPU
    if APP["app"] != "asgi:application" and server.kind != "raw":
        result["server"] = f"{server.kind} ({APP['app'].split(':')[0].rsplit('.', 1)[-1]})"
    result["loadavg_before"] = load_before
    result["loadavg_after"] = loadavg()
    result["when"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return result


def code_version() -> str:
    """The commit the servers ran, and whether the served code had local changes
    (other engineers work in the same tree)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "chat", "realtime", "accounts", "groups", "asgi.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{commit}{' +uncommitted changes' if dirty else ''}"


def record(result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "results.jsonl").open("a") as handle:
        handle.write(json.dumps(result) + "\n")


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure; other fields from the first run."""
    merged = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            values = [r[key] for r in results if isinstance(r.get(key), int | float)]
            merged[key] = statistics.median(values)
    merged["runs"] = len(results)
    merged["loadavg_each_run"] = [r["loadavg_before"] for r in results]
    return merged


# --- scenarios ------------------------------------------------------------------------


def scenario_fanout(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("group", GROUP_USERS, BENCH_GROUP)
    senders = max(2, -(-int(options.rate) // 5))
    messages = options.messages or (1000 if options.rate >= 100 else 300)
    args = ["--users", str(users), "--subscribers", str(options.subscribers)]
    args += ["--rate", str(options.rate), "--messages", str(messages)]
    args += ["--senders", str(senders), "--reactions", str(options.reactions)]
    per_server: dict[str, list[dict[str, Any]]] = {kind: [] for kind in options.servers}
    label = f"fanout N={options.subscribers} R={options.rate:g}"
    if options.reactions:
        label += f" +{options.reactions:g} reactions/s"
    for run in range(options.runs):
        for kind in options.servers:
            log(f"fanout N={options.subscribers} R={options.rate} {kind} run {run + 1} ...")
            # The raw server has no presence: it carries the messages and reactions.
            presence = options.presence_watch and kind != "raw"
            mixed = ["--presence-watch", str(options.presence_watch)] if presence else []
            with running(kind) as server:
                result = run_loadgen(server, "fanout", args + mixed)
            result["label"] = label + (
                f" +presence (watch {options.presence_watch}, 10 %/min)" if presence else ""
            )
            record(result)
            per_server[kind].append(result)
    return [median_of(results) for results in per_server.values()]


def scenario_idle(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("idle", options.connections, None)
    group_users = users_file("group", GROUP_USERS, BENCH_GROUP)
    conversation = json.loads(group_users.read_text().splitlines()[0])["conversation"]
    out = []
    for kind in options.servers:
        log(f"idle C={options.connections} {kind} ...")
        with running(kind) as server:
            warm = ["--users", str(users), "--conversation", str(conversation)]
            run_loadgen(server, "idle", [*warm, "--connections", "20", "--hold", "0"])
            time.sleep(1)
            baseline = memory_kb(server.pid)["VmRSS"]
            args = [*warm, "--connections", str(options.connections), "--hold", str(options.hold)]
            result = run_loadgen(server, "idle", args)
        ready = result["memory_marks_kb"].get("idle_ready", {}).get("VmRSS", 0)
        result["baseline_rss_mb"] = round(baseline / 1024, 1)
        result["rss_with_connections_mb"] = round(ready / 1024, 1)
        if result.get("connected"):
            result["kb_per_connection"] = round((ready - baseline) / result["connected"], 1)
        result["label"] = f"idle C={options.connections}"
        record(result)
        out.append(result)
    return out


def senders_users(senders: int, conversations: int) -> Path:
    """`senders` users spread evenly over `conversations` bench groups (1: the big
    bench group, where every send contends for the same conversation row)."""
    if conversations <= 1:
        return users_file("group", GROUP_USERS, BENCH_GROUP)
    per_group = -(-senders // conversations)
    lines: list[str] = []
    for number in range(1, conversations + 1):
        path = users_file(f"senders-{number}", per_group, f"bench-senders-{number}")
        lines += path.read_text().splitlines()[:per_group]
    database = urlparse(bench_env()["DATABASE_URL"]).path.strip("/")
    combined = CACHE / f"users-senders-{conversations}x{per_group}-{database}.jsonl"
    combined.write_text("\n".join(lines) + "\n")
    return combined


def scenario_senders(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = senders_users(options.senders, options.conversations)
    args = ["--users", str(users), "--senders", str(options.senders)]
    args += ["--per-sender", str(options.per_sender)]
    results = []
    for run in range(options.runs):
        log(f"senders S={options.senders} run {run + 1} ...")
        with running("netzn") as server:
            result = run_loadgen(server, "senders", args)
        result["label"] = f"senders S={options.senders} conversations={options.conversations}"
        record(result)
        results.append(result)
    return [median_of(results)]


def scenario_catchup(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("group", GROUP_USERS, BENCH_GROUP)
    results = []
    for run in range(options.runs):
        log(f"catchup run {run + 1} ...")
        with running("netzn") as server:
            # Make sure the conversation holds enough messages to miss.
            seed = ["--users", str(users), "--senders", "5", "--per-sender", "22"]
            run_loadgen(server, "senders", [*seed, "--warmup-messages", "0"])
            args = ["--users", str(users), "--missed", str(options.missed)]
            args += ["--rounds", str(options.rounds)]
            result = run_loadgen(server, "catchup", args)
        result["label"] = f"catchup missed={options.missed}"
        record(result)
        results.append(result)
    return [median_of(results)]


def scenario_stall(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("group", GROUP_USERS, BENCH_GROUP)
    args = ["--users", str(users), "--stalled", str(options.stalled)]
    args += ["--rate", str(options.rate), "--seconds", str(options.seconds)]
    out = []
    for kind in options.servers:
        log(f"stall K={options.stalled} R={options.rate} {kind} ...")
        with running(kind) as server:
            result = run_loadgen(server, "stall", args)
        before = result["memory_marks_kb"].get("measure_start", {}).get("VmRSS", 0)
        after = result["memory_marks_kb"].get("measure_end", {}).get("VmRSS", 0)
        result["rss_growth_mb"] = round((after - before) / 1024, 1)
        log_text = server.log_path.read_text(errors="replace")
        result["server_logged_slow_closes"] = log_text.count("closing a slow connection")
        result["label"] = f"stall K={options.stalled} R={options.rate:g}"
        record(result)
        out.append(result)
    return out


def scenario_connect(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("group", GROUP_USERS, BENCH_GROUP)
    host = host_limits(options.connections)
    args = ["--users", str(users), "--connections", str(options.connections)]
    args += ["--parallel", str(options.parallel)]
    per_server: dict[str, list[dict[str, Any]]] = {kind: [] for kind in options.servers}
    for run in range(options.runs):
        for kind in options.servers:
            log(f"connect C={options.connections} P={options.parallel} {kind} run {run + 1} ...")
            overflows = listen_overflows()
            with running(kind) as server:
                result = run_loadgen(server, "connect", args)
            result["listen_overflows"] = listen_overflows() - overflows
            result.update(host)
            result["label"] = f"connect C={options.connections} parallel={options.parallel}"
            record(result)
            per_server[kind].append(result)
    return [median_of(results) for results in per_server.values()]


def scenario_presence(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Presence (docs/presence.md): `--people` connected people of the bench group,
    each subscribed to `--watch` others, `--reconnect-pct` % reconnecting per minute;
    server CPU and presence frames per second over the window."""
    users = users_file("group", GROUP_USERS, BENCH_GROUP)
    args = ["--users", str(users), "--people", str(options.people)]
    args += ["--watch", str(options.watch), "--reconnect-pct", str(options.reconnect_pct)]
    args += ["--seconds", str(options.seconds)]
    results = []
    for run in range(options.runs):
        log(f"presence people={options.people} watch={options.watch} run {run + 1} ...")
        with running("netzn") as server:
            result = run_loadgen(server, "presence", args)
        result["label"] = f"presence people={options.people} watch={options.watch}"
        if result.get("server_cpu_s") is not None and result.get("presence_frames"):
            result["server_cpu_us_per_frame"] = round(
                1e6 * result["server_cpu_s"] / result["presence_frames"], 1
            )
        record(result)
        results.append(result)
    return [median_of(results)]


def scenario_storm(options: argparse.Namespace) -> list[dict[str, Any]]:
    users = users_file("idle", options.clients, None)
    group_users = users_file("group", GROUP_USERS, BENCH_GROUP)
    host = host_limits(options.clients * 2)
    args = ["--users", str(users), "--sender-users", str(group_users)]
    args += ["--clients", str(options.clients), "--missed", str(options.missed)]
    args += ["--timeout", str(options.timeout)]
    results = []
    for run in range(options.runs):
        log(f"storm C={options.clients} on {options.processes} processes, run {run + 1} ...")
        with contextlib.ExitStack() as stack:
            # --spread: process i on core i % 2, as production runs one per core;
            # otherwise all on the server's core, as every other scenario.
            servers = [
                stack.enter_context(
                    running(
                        "netzn",
                        port=NETZN_PORT + 2 * number,
                        core=str(number % 2) if options.spread else SERVER_CORE,
                    )
                )
                for number in range(options.processes)
            ]
            urls = ",".join(server.url for server in servers)
            overflows = listen_overflows()
            result = run_loadgen(servers[0], "storm", [*args, "--urls", urls], tuple(servers[1:]))
            result["listen_overflows"] = listen_overflows() - overflows
        result["server_log_tracebacks"] = sum(
            server.log_path.read_text(errors="replace").count("Traceback") for server in servers
        )
        result.update(host)
        cores = "one per core" if options.spread else f"on core {SERVER_CORE}"
        result["label"] = f"storm C={options.clients} processes={options.processes} {cores}"
        record(result)
        results.append(result)
    return [median_of(results)]


def summary(result: dict[str, Any]) -> str:
    keys = [
        "syncs",
        "sync_p50_ms",
        "sync_p99_ms",
        "sync_p999_ms",
        "sync_max_ms",
        "syncs_over_50_ms",
        "presence_frames_per_s",
        "presence_frames",
        "reconnects",
        "server_cpu_us_per_frame",
        "deliveries_per_s",
        "lost",
        "duplicates",
        "late_share",
        "p50_ms",
        "p99_ms",
        "ack_p99_ms",
        "persisted_per_s",
        "kb_per_connection",
        "connected",
        "connect_seconds",
        "failed",
        "handshake_p50_ms",
        "handshake_p99_ms",
        "caught_up",
        "caught_up_seconds",
        "client_p50_s",
        "client_p99_s",
        "failed_connections",
        "refused_503",
        "refused_503_retried",
        "incomplete",
        "setup_seconds",
        "listen_overflows",
        "server_log_tracebacks",
        "incomplete_rounds",
        "stalled_closed_by_server",
        "server_logged_slow_closes",
        "rss_growth_mb",
        "acked",
        "server_cpu_pct",
        "server_cpu_us_per_delivery",
        "server_cpu_ms_per_message",
        "loadgen_cpu_pct",
        "steal_pct",
        "server_peak_rss_mb",
        "disconnected",
        "send_errors",
        "errors",
    ]
    figures = ", ".join(f"{key}={result[key]}" for key in keys if key in result)
    load = f"load {result['loadavg_before']}"
    server = result["server"]
    if result.get("database") == "memory" and server != "raw":
        server += ", database in memory"
    return f"| {result['label']} | {server} | {figures} | {load} | {result['code']} |"


def memory_database() -> str:
    """The URL of the bench database on the in-memory cluster (module docstring),
    which is created and started here when it is not running."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not binaries:
        raise SystemExit("--database memory: no PostgreSQL server binaries found")
    bindir = binaries[-1].parent
    data = MEMORY_CLUSTER / "data"
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if not data.exists():
        MEMORY_CLUSTER.mkdir(parents=True, exist_ok=True)
        if as_owner:
            shutil.chown(MEMORY_CLUSTER, "postgres")
        log(f"creating the in-memory PostgreSQL cluster in {data} ...")
        initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
        subprocess.run([*as_owner, *initdb], check=True, capture_output=True)
    pg_ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data)]
    if subprocess.run([*pg_ctl, "status"], capture_output=True).returncode != 0:
        options = f"-p {MEMORY_PORT} -k {MEMORY_CLUSTER} -c listen_addresses=127.0.0.1"
        log_file = str(MEMORY_CLUSTER / "server.log")
        subprocess.run(
            [*pg_ctl, "-w", "-l", log_file, "-o", options, "start"], check=True, capture_output=True
        )
    address = ["-h", "127.0.0.1", "-p", str(MEMORY_PORT), "-U", "postgres"]
    exists = subprocess.run(
        [
            str(bindir / "psql"),
            *address,
            "-Atc",
            "SELECT 1 FROM pg_database WHERE datname = 'netzn_bench'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        subprocess.run([str(bindir / "createdb"), *address, "netzn_bench"], check=True)
    return f"postgres://postgres@127.0.0.1:{MEMORY_PORT}/netzn_bench"


def scenario_fsync(options: argparse.Namespace) -> list[dict[str, Any]]:
    """What every COMMIT waits for: an 8 KiB write made durable with fdatasync, every
    10 ms for `--seconds`, on the file system of var/bench (here the one PostgreSQL's
    data directory is on)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    probe = CACHE / "fsync-probe"
    waits: list[float] = []
    descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        until = time.monotonic() + options.seconds
        while time.monotonic() < until:
            os.pwrite(descriptor, b"x" * 8192, 0)
            started = time.monotonic()
            os.fdatasync(descriptor)
            waits.append(time.monotonic() - started)
            time.sleep(0.01)
    finally:
        os.close(descriptor)
        probe.unlink()
    waits.sort()

    def at(share: float) -> float:
        return round(1000 * waits[min(len(waits) - 1, int(len(waits) * share))], 2)

    result = {
        "scenario": "fsync",
        "label": f"fsync 8 KiB for {options.seconds:g} s",
        "server": "disk",
        "code": code_version(),
        "syncs": len(waits),
        "sync_p50_ms": at(0.5),
        "sync_p99_ms": at(0.99),
        "sync_p999_ms": at(0.999),
        "sync_max_ms": round(1000 * waits[-1], 1),
        "syncs_over_50_ms": sum(1 for wait in waits if wait > 0.05),
        "loadavg_before": loadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    record(result)
    return [result]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)

    def common(p: argparse.ArgumentParser, servers: str, runs: int) -> None:
        p.add_argument("--runs", type=int, default=runs)
        p.add_argument("--servers", default=servers, type=lambda text: text.split(","))

    fanout = sub.add_parser("fanout")
    common(fanout, "netzn,raw", 2)
    fanout.add_argument("--subscribers", type=int, default=100)
    fanout.add_argument("--rate", type=float, default=20.0)
    fanout.add_argument("--messages", type=int, default=0, help="default 300, 1000 at >=100/s")
    fanout.add_argument("--reactions", type=float, default=0.0, help="reactions/s beside")
    fanout.add_argument(
        "--presence-watch",
        type=int,
        default=0,
        help="people each watches, 10 %%/min coming and going",
    )
    idle = sub.add_parser("idle")
    common(idle, "netzn,raw", 1)
    idle.add_argument("--connections", type=int, default=10_000)
    idle.add_argument("--hold", type=float, default=10.0)
    senders = sub.add_parser("senders")
    common(senders, "netzn", 2)
    senders.add_argument("--senders", type=int, default=100)
    senders.add_argument("--per-sender", type=int, default=20)
    senders.add_argument("--conversations", type=int, default=1, help="spread over K groups")
    catchup = sub.add_parser("catchup")
    common(catchup, "netzn", 2)
    catchup.add_argument("--missed", type=int, default=100)
    catchup.add_argument("--rounds", type=int, default=200)
    stall = sub.add_parser("stall")
    common(stall, "netzn", 1)
    stall.add_argument("--stalled", type=int, default=20)
    stall.add_argument("--rate", type=float, default=400.0)
    stall.add_argument("--seconds", type=float, default=45.0)
    connecting = sub.add_parser("connect")
    common(connecting, "netzn,raw", 2)
    connecting.add_argument("--connections", type=int, default=1000)
    connecting.add_argument("--parallel", type=int, default=50, help="concurrent handshakes")
    storm = sub.add_parser("storm")
    common(storm, "netzn", 1)
    storm.add_argument("--clients", type=int, default=5000)
    storm.add_argument("--processes", type=int, default=2)
    storm.add_argument("--missed", type=int, default=20)
    storm.add_argument("--timeout", type=float, default=120.0)
    storm.add_argument("--spread", action="store_true", help="one process per core")
    presence = sub.add_parser("presence")
    common(presence, "netzn", 1)
    presence.add_argument("--people", type=int, default=1000)
    presence.add_argument("--watch", type=int, default=50)
    presence.add_argument("--reconnect-pct", type=float, default=10.0)
    presence.add_argument("--seconds", type=float, default=60.0)
    fsync = sub.add_parser("fsync")
    fsync.add_argument("--seconds", type=float, default=60.0)
    sub.add_parser("all")
    return parser.parse_args(argv)


def take_option(argv: list[str], name: str, choices: tuple[str, ...] = ()) -> str | None:
    """Remove `name VALUE` from argv (the options every scenario shares) and answer
    VALUE, or None when it is not given; one of `choices` when they are given."""
    if name not in argv:
        return None
    at = argv.index(name)
    if at + 1 == len(argv):
        raise SystemExit(f"{name} needs a value")
    value = argv[at + 1]
    if choices and value not in choices:
        raise SystemExit(f"{name} is {' or '.join(choices)} (the first is the default)")
    del argv[at : at + 2]
    return value


def main(argv: list[str]) -> None:
    raise_fd_limit()
    argv = list(argv)
    py_spy = take_option(argv, "--profile")
    if py_spy is not None:
        # --profile PY_SPY: sample the netzn server with py-spy (kept out of .venv).
        PROFILE["py_spy"] = py_spy
        PROFILE["label"] = "-".join(argv).replace("--", "")
    APP["app"] = take_option(argv, "--app") or APP["app"]
    LOOP["loop"] = take_option(argv, "--loop", ("uvloop", "asyncio")) or LOOP["loop"]
    DATABASE["where"] = take_option(argv, "--database", ("disk", "memory")) or DATABASE["where"]
    if DATABASE["where"] == "memory":
        os.environ["DATABASE_URL"] = memory_database()
    options = parse(argv)
    if options.scenario == "all":
        servers = "netzn,uvicorn,raw" if Path(UVICORN_PYTHON).exists() else "netzn,raw"
        plans = [
            ["fanout", "--subscribers", "100", "--rate", "20", "--servers", servers],
            ["fanout", "--subscribers", "500", "--rate", "20", "--servers", servers],
            ["fanout", "--subscribers", "1000", "--rate", "20", "--servers", servers],
            ["fanout", "--subscribers", "500", "--rate", "100", "--servers", servers],
            ["idle"],
            ["senders"],
            ["senders", "--conversations", "10"],
            ["catchup"],
            ["stall"],
            ["connect"],
            ["connect", "--parallel", "1000"],
            ["storm"],
            ["presence"],
        ]
    else:
        plans = [argv]
    handlers = {
        "fanout": scenario_fanout,
        "idle": scenario_idle,
        "senders": scenario_senders,
        "catchup": scenario_catchup,
        "stall": scenario_stall,
        "connect": scenario_connect,
        "storm": scenario_storm,
        "presence": scenario_presence,
        "fsync": scenario_fsync,
    }
    # Other engineers add migrations while the bench runs: bring the bench database
    # up to the schema of the code about to be served.
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
        capture_output=True,
    )
    rows = []
    with redis_on_loadgen_core():
        for plan in plans:
            plan_options = parse(plan)
            for result in handlers[plan_options.scenario](plan_options):
                row = summary(result)
                rows.append(row)
                print(row, flush=True)
    with (RESULTS / "summary.md").open("a") as handle:
        handle.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
