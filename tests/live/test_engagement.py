"""Staying in touch (docs/protocol.md 1.1) against real daphne processes: suggestions, group
topics, the directory's responsibility filter and bad input in both modes; in
production, `netzn_cron` (its own process, as on another machine) brings an unanswered
question live to the expert's socket on another server process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT, database_url_of_test_db
from tests.live.client import api, expect, send_frame
from tests.live.conftest import Deployment, start_embedded


def test_suggestions_topics_and_bad_input(live: Deployment) -> None:
    owner, nina = live.person("Olaf Owner"), live.person("Nina Neu")
    name = f"Ausbildung Witten {uuid.uuid4().hex[:6]}"
    with api(live.http_url, owner) as client:
        group = expect(
            client.post(
                "/groups",
                json={
                    "name": name,
                    "visibility": "open",
                    "topics": ["Ausbildung"],
                    "city": "Witten",
                },
            ),
            201,
        )
        assert (group["topics"], group["city"]) == (["Ausbildung"], "Witten")
        bad = expect(client.post("/groups", json={"name": "Falsch", "topics": [1, 2]}), 400)
        assert "topics" in bad["error"]["fields"]
        bad = expect(client.patch(f"/groups/{group['slug']}", json={"city": ["Witten"]}), 400)
        assert "city" in bad["error"]["fields"]
    with api(live.http_url, nina) as client:
        expect(client.patch("/me", json={"topics": ["Ausbildung"], "city": "Witten"}), 200)
        suggestions = expect(client.get("/me/suggestions"), 200)
        mine = next(g for g in suggestions["groups"] if g["slug"] == group["slug"])
        assert mine["reason"] == "Thema Ausbildung, Witten"
        assert suggestions["posts"] == []
        forbidden = expect(client.get("/network/health?days=7"), 403)
        assert forbidden["error"]["code"] == "forbidden"
        expect(client.get("/people?responsibility=" + "x" * 161), 400)
        found = expect(client.get("/people?company=gibt-es-nicht&responsibility=Ausbildung"), 200)
        assert found["results"] == []
    with api(live.http_url) as anonymous:
        expect(anonymous.get("/me/suggestions"), 401)
        expect(anonymous.get("/network/health"), 401)


@pytest.mark.postgres("netzn_cron runs as its own process on the production database")
@pytest.mark.redis("its notification reaches a socket on a server process through Redis")
async def test_netzn_cron_brings_the_question_live_to_the_expert(
    production_servers: Deployment,
) -> None:
    live = production_servers
    owner, expert, nina = (live.person(n) for n in ("Olaf Owner", "Erika Expertin", "Nina Neu"))
    with api(live.http_url, expert) as client:
        expect(client.patch("/me", json={"topics": ["Mechatronik"]}), 200)
    with api(live.http_url, owner) as client:
        group = expect(
            client.post(
                "/groups",
                json={"name": f"Technik {uuid.uuid4().hex[:6]}", "topics": ["Mechatronik"]},
            ),
            201,
        )
    for person in (expert, nina):
        with api(live.http_url, person) as client:
            expect(client.post(f"/groups/{group['slug']}/join", json={}), 200)
    conversation = group["conversation_id"]
    listening = await live.socket(expert, live.second)
    asking = await live.socket(nina, live.first)
    ack = await asking.request(
        send_frame(conversation, "Wer kennt sich mit Mechatronik-Prüfungen aus?")
    )
    assert ack["type"] == "ack", ack

    later = datetime.fromisoformat(ack["created_at"]) + timedelta(minutes=241)
    command = [
        sys.executable,
        "manage.py",
        "netzn_cron",
        "--job",
        "unanswered_questions",
        "--now",
        later.isoformat(),
    ]
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url_of_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "NETZN_REDIS_PREFIX": settings.NETZN_REDIS_PREFIX,
    }
    result = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "1 offene Frage weitergegeben, 2 Personen gefragt" in result.stdout

    frame = await listening.receive_type("notification")
    assert frame["kind"] == "unanswered"
    assert frame["data"]["message"] == ack["id"]
    assert (
        frame["data"]["reason"] == "Sie wurden gefragt, weil „Mechatronik“ eines Ihrer Themen ist."
    )
    with api(live.http_url, nina) as client:
        own = expect(client.get("/notifications"), 200)
        assert all(n["kind"] != "unanswered" for n in own["results"])  # never the author
    again = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0 and "weitergegeben" not in again.stdout
    await listening.expect_nothing_more()
    await listening.close()
    await asking.close()


async def test_make_run_runs_the_jobs_in_the_embedded_server(
    tmp_path: Path, embedded_template: Path
) -> None:
    """`make run` (no Redis, SQLite) runs netzn_cron's jobs on a thread of the server:
    the question reaches the expert's socket live, and the e-mail owed goes to the
    server's console."""
    server = start_embedded(
        tmp_path,
        embedded_template,
        NETZN_CRON_EVERY_SECONDS="1",
        NETZN_UNANSWERED_AFTER_MINUTES="0",
        NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS="0",
    )
    try:
        live = Deployment("embedded", [server])
        owner, expert, nina = (live.person(n) for n in ("Olaf Owner", "Erika Expertin", "Nina Neu"))
        with api(live.http_url, expert) as client:
            expect(client.patch("/me", json={"topics": ["Zoll"]}), 200)
        group = live.group(owner, expert, nina)
        listening = await live.socket(expert)
        asking = await live.socket(nina)
        ack = await asking.request(
            send_frame(group["conversation_id"], "Wer kennt sich mit Zoll aus?")
        )
        assert ack["type"] == "ack", ack

        frame = await listening.receive_type("notification", timeout=30)
        assert frame["kind"] == "unanswered"
        assert frame["data"]["reason"] == "Sie wurden gefragt, weil „Zoll“ eines Ihrer Themen ist."
        # The e-mail it owes goes to the server's console (its plain-text part is 8bit).
        deadline = time.monotonic() + 30
        while "Frage beantworten:" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()[-3000:]
            await asyncio.sleep(0.2)
        console = server.log.read_text()
        mail = console[
            console.rindex("Content-Type: multipart", 0, console.index("Frage beantworten:")) :
        ]
        assert f"To: {expert.email}" in mail
        assert "„Wer kennt sich mit Zoll aus?“" in mail
        await listening.close()
        await asking.close()
    finally:
        server.stop()
