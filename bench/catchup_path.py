"""Where a catch-up's time goes, without the network: an experiment.

A `subscribe` with `after = last_seq - 100` costs the server one database step
(`chat.access.subscription_start`: access check, participation, the backlog page)
and then one JSON encoding and one socket write per missed message. This script
times the database step and the encoding of the 100 frames separately, in-process
against the bench database, so docs/performance.md can say which part a faster
catch-up has to shrink.

    python bench/catchup_path.py --rounds 200 --missed 100
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

from accounts.models import User  # noqa: E402
from chat.access import subscription_start  # noqa: E402
from chat.events import message_frame  # noqa: E402
from chat.models import Conversation, Message  # noqa: E402
from realtime import frames  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q / 100 + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--missed", type=int, default=100)
    parser.add_argument(
        "--users", default=str(ROOT / "var" / "bench" / "users-group-netzn_bench.jsonl")
    )
    args = parser.parse_args()
    first = json.loads(Path(args.users).read_text().splitlines()[0])
    user = User.objects.get(pk=first["id"])
    conversation_id = int(first["conversation"])
    last_seq = Conversation.objects.get(pk=conversation_id).last_seq
    database: list[float] = []
    encoding: list[float] = []
    rows_only: list[float] = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        page, _ = subscription_start(user, conversation_id, last_seq - args.missed)
        loaded = time.perf_counter()
        texts = [frames.encode(message_frame(message)) for message in page.messages]
        done = time.perf_counter()
        assert len(texts) == args.missed
        database.append(loaded - started)
        encoding.append(done - loaded)
        # The same backlog rows as plain tuples, without model instances: what a
        # leaner backlog query would cost.
        started = time.perf_counter()
        rows = list(
            Message.objects.filter(conversation_id=conversation_id, seq__gt=last_seq - args.missed)
            .order_by("seq")
            .values_list(
                "id",
                "seq",
                "body",
                "client_id",
                "created_at",
                "edited_at",
                "deleted_at",
                "author_id",
                "author__display_name",
                "author__company_name",
            )[: args.missed + 1]
        )
        rows_only.append(time.perf_counter() - started)
        assert len(rows) == args.missed
    print(
        json.dumps(
            {
                "missed": args.missed,
                "rounds": args.rounds,
                "database_p50_ms": round(1000 * percentile(database, 50), 2),
                "database_p99_ms": round(1000 * percentile(database, 99), 2),
                "values_query_p50_ms": round(1000 * percentile(rows_only, 50), 2),
                "values_query_p99_ms": round(1000 * percentile(rows_only, 99), 2),
                "encode_p50_ms": round(1000 * percentile(encoding, 50), 2),
                "encode_p99_ms": round(1000 * percentile(encoding, 99), 2),
                "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            }
        )
    )


if __name__ == "__main__":
    main()
