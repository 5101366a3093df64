"""Where a reconnect's database time goes, without the network: an experiment.

A `subscribe` with `after = last_seq - N` costs the server one database step
(`chat.backlog.subscription_backlog`: access and participation, the backlog rows,
their attachments and reactions, the frames) and then one JSON encoding and one
socket write per missed message. This script times the database step and the
encoding of the N frames separately, in-process against the bench database, as wall
time and as this process's CPU time (`time.process_time`, which a busy machine
inflates less), so docs/performance.md can say which part a faster catch-up has to
shrink. It also times the token handshake's database step (the token, its person and
the `hello` conversations, `accounts.ws_auth.token_handshake`), and with PostgreSQL on
this machine reports the CPU its backend spent on each step (from /proc).

    python bench/catchup_path.py --rounds 200 --missed 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/netzn_bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.ws_auth import token_handshake  # noqa: E402
from chat.access import hello_conversations  # noqa: E402
from chat.backlog import subscription_backlog  # noqa: E402
from chat.models import Conversation  # noqa: E402
from realtime import frames  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q / 100 + 0.5) - 1))]


def backend_cpu_seconds() -> float | None:
    """The CPU time of this connection's PostgreSQL backend, if it runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_round_ms(start: float | None, end: float | None, rounds: int) -> float | None:
    return None if start is None or end is None else round(1000 * (end - start) / rounds, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--missed", type=int, default=20)
    parser.add_argument(
        "--users", default=str(ROOT / "var" / "bench" / "users-group-netzn_bench.jsonl")
    )
    args = parser.parse_args()
    first = json.loads(Path(args.users).read_text().splitlines()[0])
    user = User.objects.get(pk=first["id"])
    conversation_id = int(first["conversation"])
    last_seq = Conversation.objects.get(pk=conversation_id).last_seq
    if last_seq < args.missed:
        raise SystemExit(f"the bench conversation holds {last_seq} messages, {args.missed} needed")
    database: list[float] = []
    database_cpu: list[float] = []
    encoding: list[float] = []
    backend_before = backend_cpu_seconds()
    for _ in range(args.rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        backlog = subscription_backlog(user, conversation_id, last_seq - args.missed)
        loaded, loaded_cpu = time.perf_counter(), time.process_time()
        texts = [frames.encode(frame) for frame in backlog.frames]
        done = time.perf_counter()
        assert len(texts) == args.missed
        database.append(loaded - started)
        database_cpu.append(loaded_cpu - started_cpu)
        encoding.append(done - loaded)
    backend_catch_up = per_round_ms(backend_before, backend_cpu_seconds(), args.rounds)
    handshake_cpu: list[float] = []
    backend_before = backend_cpu_seconds()
    for _ in range(args.rounds):
        started_cpu = time.process_time()
        assert token_handshake(first["token"], hello_conversations) is not None
        handshake_cpu.append(time.process_time() - started_cpu)
    backend_handshake = per_round_ms(backend_before, backend_cpu_seconds(), args.rounds)
    print(
        json.dumps(
            {
                "missed": args.missed,
                "rounds": args.rounds,
                "database_p50_ms": round(1000 * percentile(database, 50), 2),
                "database_p99_ms": round(1000 * percentile(database, 99), 2),
                "database_cpu_mean_ms": round(1000 * sum(database_cpu) / len(database_cpu), 2),
                "database_server_cpu_mean_ms": backend_catch_up,
                "handshake_cpu_mean_ms": round(1000 * sum(handshake_cpu) / len(handshake_cpu), 2),
                "handshake_server_cpu_mean_ms": backend_handshake,
                "encode_p50_ms": round(1000 * percentile(encoding, 50), 2),
                "encode_p99_ms": round(1000 * percentile(encoding, 99), 2),
                "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            }
        )
    )


if __name__ == "__main__":
    main()
