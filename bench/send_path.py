"""Why 100 concurrent senders persist far fewer than 1,000 messages/s: an experiment.

Every send to one conversation takes that conversation's row lock. In
`chat.actions.do_send_message` the lock is held across four client round trips
(SELECT ... FOR UPDATE, INSERT message, UPDATE conversation, UPDATE participant) and
the COMMIT; between them each pool thread has to win the GIL back, so the lock is
held for milliseconds and the conversation's throughput is 1 / (hold time).

This script calls the real `do_send_message` from T threads of one process (as the
server's database pool does) and, for comparison, a prototype that assigns the seq
and stores the message in ONE autocommitted statement, so no client round trip (and
no GIL wait) happens while the lock is held:

    WITH c AS (UPDATE chat_conversation SET last_seq = last_seq + 1, ...
               WHERE id = %s RETURNING last_seq)
    INSERT INTO chat_message (...) SELECT ..., c.last_seq FROM c RETURNING id, seq

A unique violation on (author, client_id) fails the whole statement, the UPDATE
included, so seq stays gapless. The prototype lives here only to measure the
suggestion in docs/performance.md; the application's send path is chat/actions.py.

    python bench/send_path.py --mode current --threads 16 --messages 2000
    python bench/send_path.py --mode one-statement --threads 16 --messages 2000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/netzn_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("NETZN_REDIS_PREFIX", "netzn-bench")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django.db.models import F  # noqa: E402
from django.db.models.functions import Greatest  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from chat.actions import do_send_message  # noqa: E402
from chat.attachments import prefetch_attachments  # noqa: E402
from chat.events import message_frame  # noqa: E402
from chat.models import Message, Participant  # noqa: E402
from realtime.frames import conversation_topic  # noqa: E402
from realtime.publish import publish_on_commit  # noqa: E402

STORE_IN_ONE_STATEMENT = """
WITH c AS (
    UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = %s
    WHERE id = %s RETURNING last_seq
)
INSERT INTO chat_message (conversation_id, seq, author_id, body, client_id, created_at)
SELECT %s, c.last_seq, %s, %s, %s, %s FROM c
RETURNING id, seq
"""


def send_one_statement(actor: Any, conversation_id: int, body: str, client_id: str) -> Message:
    """The prototype: same checks and effects as a group send, lock held for one
    statement inside PostgreSQL."""
    if not Participant.objects.filter(conversation_id=conversation_id, user=actor).exists():
        raise PermissionError("not a participant")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            STORE_IN_ONE_STATEMENT,
            [now, conversation_id, conversation_id, actor.pk, body, client_id, now],
        )
        message_id, seq = cursor.fetchone()
    # Outside the lock: the read marker only moves forward, so order does not matter.
    Participant.objects.filter(conversation_id=conversation_id, user=actor).update(
        last_read_seq=Greatest(F("last_read_seq"), seq)
    )
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        seq=seq,
        author=actor,
        body=body,
        client_id=client_id,
        created_at=now,
    )
    prefetch_attachments([message], any_attached=False)  # a new message has none
    # Autocommit: the statement has committed, so this publishes at once.
    publish_on_commit(conversation_topic(conversation_id), message_frame(message))
    return message


def send_current(actor: Any, conversation_id: int, body: str, client_id: str) -> Message:
    message, _ = do_send_message(
        actor=actor, conversation_id=conversation_id, body=body, client_id=client_id
    )
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["current", "one-statement"], default="current")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--users", default=str(ROOT / "var" / "bench" / "users-group-netzn_bench.jsonl")
    )
    parser.add_argument("--senders", type=int, default=100)
    args = parser.parse_args()
    lines = [json.loads(line) for line in Path(args.users).read_text().splitlines()]
    lines = lines[: args.senders]
    conversation_id = int(lines[0]["conversation"])
    users = {user.pk: user for user in User.objects.filter(pk__in=[x["id"] for x in lines])}
    actors = [users[x["id"]] for x in lines]
    send = send_current if args.mode == "current" else send_one_statement
    run = uuid.uuid4().hex[:8]
    counter = iter(range(args.messages))
    lock = threading.Lock()
    latencies: list[float] = []
    seqs: list[int] = []

    def worker(number: int) -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            actor = actors[index % len(actors)]
            body = f"bench p {index:07d} " + "x" * 84
            started = time.monotonic()
            message = send(actor, conversation_id, body, f"sp-{run}-{index}")
            elapsed = time.monotonic() - started
            with lock:
                latencies.append(elapsed)
                seqs.append(message.seq)
        connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    cpu_before = time.process_time()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_before
    latencies.sort()
    ordered = sorted(seqs)
    gapless = ordered == list(range(ordered[0], ordered[0] + len(ordered)))
    print(
        json.dumps(
            {
                "mode": args.mode,
                "threads": args.threads,
                "messages": len(seqs),
                "persisted_per_s": round(len(seqs) / elapsed, 1),
                "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
                "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 2),
                "seq_gapless": gapless,
                "python_cpu_ms_per_message": round(1000 * cpu / len(seqs), 2),
                "debug": os.environ.get("DEBUG", "1"),
                "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            }
        )
    )


if __name__ == "__main__":
    main()
