"""`python manage.py create_bench_users N [--group SLUG]`: people with tokens for bench/.

The load generator needs hundreds or thousands of authenticated sockets; signing each
person up through the API would hash a password per person and take minutes. This
command writes the users and their access tokens in a few bulk inserts and prints one
JSON line per user, `{"id", "email", "token"}` (plus `"group"` and `"conversation"`
with `--group`), for `bench/loadgen.py` to read.

Bench users get an unusable password: they authenticate with their token only. The
command refuses to run with DEBUG off, so it can never mint tokens on a production
database.

With `--group SLUG` the users also join the open bench group with that slug (founded
by the first of them through `groups.actions.do_create_group` on first use, named like
the slug), through `groups.actions.do_join_group`: the same path as a person clicking
"Beitreten", so they are participants of its conversation and may subscribe and send.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from accounts.models import AccessToken, User
from accounts.tokens import hash_token, new_raw_token
from groups.actions import do_create_group, do_join_group
from groups.models import Group

MAX_USERS = 20_000
BATCH_SIZE = 1_000


def join_bench_group(slug: str, users: list[User]) -> Group:
    """Make `users` members of the open bench group `slug` (founded when missing)."""
    group = Group.objects.filter(Q(slug=slug) | Q(name__iexact=slug)).first()
    joining = users
    if group is None:
        group = do_create_group(actor=users[0], name=slug, visibility=Group.Visibility.OPEN)
        joining = users[1:]
    for user in joining:
        do_join_group(actor=user, group=group)
    return group


class Command(BaseCommand):
    help = "Legt Benchmark-Personen mit Zugangstoken an (nur mit DEBUG)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="number of users to create")
        parser.add_argument(
            "--group", metavar="SLUG", help="also make them participants of this bench group"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("create_bench_users läuft nur mit DEBUG=1 (nie in Produktion).")
        count: int = options["count"]
        if not 1 <= count <= MAX_USERS:
            raise CommandError(f"Anzahl muss zwischen 1 und {MAX_USERS} liegen.")
        slug: str | None = options["group"]
        run = uuid.uuid4().hex[:8]
        unusable = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"bench-{run}-{number}@bench.invalid",
                        display_name=f"Bench {run} {number}",
                        company_name="Lasttest GmbH",
                        city="Bochum",
                        password=unusable,
                    )
                    for number in range(1, count + 1)
                ],
                batch_size=BATCH_SIZE,
            )
            raw_tokens = [new_raw_token() for _ in users]
            AccessToken.objects.bulk_create(
                [
                    AccessToken(
                        user=user, name="bench", token_hash=hash_token(raw), prefix=raw[:12]
                    )
                    for user, raw in zip(users, raw_tokens, strict=True)
                ],
                batch_size=BATCH_SIZE,
            )
            group = join_bench_group(slug, users) if slug else None
        for user, raw in zip(users, raw_tokens, strict=True):
            line: dict[str, Any] = {"id": user.pk, "email": user.email, "token": raw}
            if group is not None:
                line["group"] = group.slug
                line["conversation"] = group.conversation_id
            self.stdout.write(json.dumps(line))
