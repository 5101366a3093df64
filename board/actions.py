"""Every state change of the board (docs/architecture.md, rule 1).

The API, the pages, the demo seeding and the periodic job call these. Each validates,
writes in one transaction and publishes only after the commit: the post's message
goes through chat's one send path (`chat.actions.do_send_message`, with the card),
card changes through `chat.actions.do_update_post_card`, matches through
`notifications.actions.do_notify`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from board import access, matching, postcodes, presentation
from board.events import post_card, post_url
from board.filters import BoardFilters
from board.models import Category, Contact, Post, SavedSearch, Status
from board.occupations import fold
from board.validation import CleanPost, clean_post, today
from chat.actions import do_get_or_create_direct_conversation, do_send_message, do_update_post_card
from chat.models import Conversation, Message
from groups.access import access_group_for_writing
from groups.models import Group
from notifications.actions import do_notify_all
from realtime.errors import ClientError

CONTACT_MESSAGE_MAX = 2000
SEARCH_NAME_MAX = 120
SEARCHES_PER_PERSON = 50
CHANGEABLE_TO = (Status.FILLED, Status.WITHDRAWN)


@dataclass
class Created:
    post: Post
    matched_posts: list[matching.PostHit] = field(default_factory=list)
    notified: list[int] = field(default_factory=list)  # user ids told at once


def message_text(post: Post) -> str:
    """The message's text for clients that do not know cards (and for search)."""
    label = presentation.kind_label(post.category, post.kind)
    lines = [f"{label}: {post.title}"]
    line = presentation.summary_of(post)
    if line:
        lines.append(line)
    if post.body:
        lines.append(post.body)
    return "\n".join(lines)


def matching_columns(clean: CleanPost) -> dict[str, Any]:
    """The plain columns matching and filters read, from the cleaned fields."""
    fields = clean.fields
    columns: dict[str, Any] = {}
    expires: dt.date | None = clean.valid_until
    words: list[str] = []
    if clean.category == Category.FREIGHT:
        columns.update(
            place_postcode=fields["from_postcode"],
            place_region=postcodes.region(fields["from_postcode"]),
            place_city=fold(fields["from_city"]),
            dest_postcode=fields["to_postcode"],
            dest_region=postcodes.region(fields["to_postcode"]),
            dest_city=fold(fields["to_city"]),
            earliest=dt.date.fromisoformat(fields["earliest"]),
            latest=dt.date.fromisoformat(fields["latest"]),
            loading_metres=Decimal(str(fields["loading_metres"])),
            weight_t=Decimal(str(fields["weight_t"])),
            adr=fields["adr"],
        )
        latest = columns["latest"]
        expires = min(expires, latest) if expires else latest
        words = [fields["from_city"], fields["to_city"], "Fracht", "Laderaum"]
    elif clean.category == Category.APPRENTICESHIP:
        columns.update(
            place_postcode=fields["postcode"],
            place_region=postcodes.region(fields["postcode"]),
            place_city=fold(fields["city"]),
            earliest=dt.date.fromisoformat(fields["start"]),
            occupation=fields["occupation"],
        )
        words = [fields["city"], fields["occupation"], "Ausbildung"]
    centre = postcodes.coordinates(columns.get("place_postcode", ""))
    if centre is not None:
        columns["latitude"], columns["longitude"] = centre
    columns["expires_on"] = expires
    columns["search_text"] = " ".join(words)
    columns["summary"] = presentation.summary(clean.category, fields)
    return columns


def do_create_post(
    *,
    actor: Any,
    group_slug: str,
    kind: Any,
    category: Any,
    title: Any,
    body: Any = "",
    fields: Any = None,
    valid_until: Any = None,
) -> Created:
    """Publish an offer or request in a group: members only (403 otherwise, 404 for an
    unknown group; an archived group takes none: 403).

    In one transaction: stores the post, sends its message through chat's send path
    (the `message` frame carries the card), finds the open posts and saved searches
    it fits and stores one `Match` per pair. Emits after the commit: `message` on the
    group's conversation; `match` notifications (live, e-mailed per preference) to
    the authors of fitting posts and the owners of fitting immediate searches."""
    group, may_write = access_group_for_writing(actor, group_slug)
    if not may_write:
        raise ClientError(
            "forbidden", "Nur Mitglieder der Gruppe können hier Gesuche und Angebote einstellen."
        )
    clean = clean_post(
        kind=kind, category=category, title=title, body=body, fields=fields, valid_until=valid_until
    )
    with transaction.atomic():
        post = _insert(
            Post(
                group=group,
                author=actor,
                company=actor.company_name,
                kind=clean.kind,
                category=clean.category,
                title=clean.title,
                body=clean.body,
                fields=clean.fields,
                valid_until=clean.valid_until,
                **matching_columns(clean),
            )
        )
        message, _ = do_send_message(
            actor=actor,
            conversation_id=group.conversation_id,
            body=message_text(post),
            client_id=f"board-post:{post.pk}",
            post=dict(post_card(post)),
        )
        post.message = message  # stored by the matching statement
        created = Created(post=post)
        _match(created, group)
    return created


def _insert(post: Post) -> Post:
    """`post.save()` for a new post as one written INSERT (values prepared by each
    field, as the ORM does): composing and compiling the ORM's insert was a tenth
    of a create's CPU. Sends no signals (the board connects none)."""
    fields = [field for field in Post._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(post, True), connection) for field in fields]
    sql = f"INSERT INTO board_post ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 (columns named here only)
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING id", values)
            post.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, values)
            post.pk = cursor.lastrowid
    post._state.adding = False
    post._state.db = connection.alias
    return post


def _match(created: Created, group: Group) -> None:
    post = created.post
    post.group = group
    now = timezone.now()
    others, searches = matching.store_matches(post, now)
    created.matched_posts = others
    # One notification per person and new post, however many of their posts and
    # searches it fits (the dedupe key is unique per recipient). The post's part of
    # the data is the same for everyone: built once.
    about = match_post_data(post)
    told: dict[int, tuple[Any, dict[str, Any]]] = {}
    count: dict[int, int] = {}
    for other in others:
        count[other.author_id] = count.get(other.author_id, 0) + 1
        if other.author_id not in told:
            matched = {"type": "post", "id": other.id, "title": other.title}
            told[other.author_id] = (other, matched)
    for search in searches:
        if search.alert != SavedSearch.Alert.IMMEDIATE:
            continue
        count[search.user_id] = count.get(search.user_id, 0) + 1
        if search.user_id not in told:
            told[search.user_id] = (
                search,
                {"type": "search", "id": search.id, "name": search.name},
            )
    notices = [
        (person, {**about, "matched": matched, "count": count[user_id]})
        for user_id, (person, matched) in told.items()
    ]
    created.notified = do_notify_all(
        kind="match", notices=notices, dedupe_key=f"match:{post.pk}", new_key=True
    )


def match_post_data(post: Post) -> dict[str, Any]:
    """What a `match` notification says about the new post (beside `matched`, `count`)."""
    return {
        "post": {
            "id": post.pk,
            "kind": post.kind,
            "category": post.category,
            "title": post.title,
            "summary": presentation.summary_of(post),
            "author": {"id": post.author_id, "display_name": post.author.display_name},
            "group": {"slug": post.group.slug, "name": post.group.name},
        },
        "url": post_url(post),
    }


def do_update_post_status(*, actor: Any, post_id: Any, status: Any) -> Post:
    """Mark a post filled or withdrawn: its author or the group's owners and admins
    (403 for other readers, 404 for everyone else). Only an open post changes (409
    otherwise; an expired one may still be marked). Emits `post_updated` on the
    conversations whose messages show its card, after the commit."""
    if status not in CHANGEABLE_TO:
        raise ClientError(
            "bad_request",
            "Unbekannter Status.",
            fields={
                "status": ["Erlaubt sind „filled“ (vergeben) und „withdrawn“ (zurückgezogen)."]
            },
        )
    with transaction.atomic():
        post = access.access_post(actor, post_id)
        if not access.may_change(actor, post):
            raise ClientError(
                "forbidden", "Nur die Verfasserin bzw. der Verfasser und die Admins dürfen das."
            )
        locked = Post.objects.select_for_update().get(pk=post.pk)
        if locked.status != Status.OPEN:
            raise ClientError(
                "conflict",
                f"Dieser Eintrag ist bereits {presentation.status_label(locked.status)}.",
            )
        post.status = status
        post.closed_at = timezone.now()
        Post.objects.filter(pk=post.pk).update(status=status, closed_at=post.closed_at)
        _refresh_cards(post)
    post.effective_status = status  # type: ignore[attr-defined]
    return post


def _refresh_cards(post: Post) -> None:
    ids = list(Contact.objects.filter(post=post).values_list("message_id", flat=True))
    if post.message_id:
        ids.append(post.message_id)
    do_update_post_card(message_ids=ids, post=dict(post_card(post)))


def do_expire_posts(*, limit: int = 1000) -> int:
    """Store "expired" on open posts past their last day and refresh their cards: for
    the periodic job (`netzn_cron`). Not needed to hide them (every query computes
    expiry); it makes stored status and cards agree. Idempotent. Emits
    `post_updated` per refreshed card after the commit."""
    with transaction.atomic():
        posts = list(
            Post.objects.select_for_update(skip_locked=True)
            .select_related("group")
            .filter(status=Status.OPEN, expires_on__lt=today())
            .order_by("id")[:limit]
        )
        for post in posts:
            post.status = Status.EXPIRED
            post.closed_at = timezone.now()
            post.save(update_fields=["status", "closed_at"])
            _refresh_cards(post)
    return len(posts)


def do_contact_post_author(
    *, actor: Any, post_id: Any, message: Any = "", client_id: Any = None
) -> tuple[Conversation, Message]:
    """ "Interesse": open (or reuse) the direct conversation with the post's author and
    send `message` there, with the post's card. Anyone who may see the post, not its
    author (400), only while it is open (409); blocks refuse (403). A retry with the
    same `client_id` sends nothing new. Emits chat's `message` frame and
    `direct_message` notification after the commit."""
    post = access.access_post(actor, post_id)
    if post.author_id == actor.pk:
        raise ClientError("bad_request", "Das ist Ihr eigener Eintrag.")
    if access.effective_status(post) != Status.OPEN:
        raise ClientError("conflict", "Dieser Eintrag ist nicht mehr offen.")
    if message is None:
        message = ""
    if not isinstance(message, str) or len(message) > CONTACT_MESSAGE_MAX:
        raise ClientError(
            "bad_request",
            "Die Nachricht ist zu lang.",
            fields={"message": [f"Höchstens {CONTACT_MESSAGE_MAX} Zeichen."]},
        )
    text = message.strip() or f"Ich interessiere mich für Ihren Eintrag „{post.title}“."
    if client_id is None:
        client_id = f"board-contact:{uuid.uuid4()}"
    with transaction.atomic():
        conversation, _ = do_get_or_create_direct_conversation(
            actor=actor, other_user_id=post.author_id
        )
        sent, created = do_send_message(
            actor=actor,
            conversation_id=conversation.pk,
            body=f"Zu „{post.title}“: {text}",
            client_id=client_id,
            post=dict(post_card(post)),
        )
        if created:
            Contact.objects.create(post=post, user=actor, message=sent)
    return conversation, sent


def do_create_saved_search(*, actor: Any, name: Any, filters: Any, alert: Any) -> SavedSearch:
    """Save a board search for `actor` (at most 50). `alert`: immediate (a `match`
    notification for each new fitting post), daily (in the daily digest e-mail) or
    off. No event."""
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["Bitte einen Namen angeben."]
    elif len(name.strip()) > SEARCH_NAME_MAX:
        errors["name"] = [f"Höchstens {SEARCH_NAME_MAX} Zeichen."]
    if alert is None:
        alert = SavedSearch.Alert.IMMEDIATE
    if alert not in SavedSearch.Alert.values:
        errors["alert"] = ["Erlaubt sind „immediate“, „daily“ und „off“."]
    if filters is None:
        filters = {}
    parsed: BoardFilters | None = None
    if not isinstance(filters, dict):
        errors["filters"] = ["Erwartet wird ein Objekt mit Filtern."]
    else:
        try:
            parsed = BoardFilters.parse(filters, saved=True)
        except ClientError as error:
            for key, messages in (error.fields or {}).items():
                errors[f"filters.{key}"] = messages
    group: Group | None = None
    if parsed is not None and parsed.group:
        group = access.readable_groups(actor).filter(slug=parsed.group).first()
        if group is None:
            errors["filters.group"] = [
                "Diese Gruppe gibt es nicht oder Sie können sie nicht lesen."
            ]
    if errors:
        raise ClientError("bad_request", "Bitte prüfen Sie die Angaben.", fields=errors)
    assert parsed is not None
    with transaction.atomic():
        if SavedSearch.objects.filter(user=actor).count() >= SEARCHES_PER_PERSON:
            raise ClientError(
                "conflict", f"Sie haben bereits {SEARCHES_PER_PERSON} gespeicherte Suchen."
            )
        return SavedSearch.objects.create(
            user=actor,
            name=str(name).strip(),
            filters=parsed.saved_values(),
            alert=alert,
            kind=parsed.kind,
            category=parsed.category,
            group=group,
            city=fold(parsed.city),
            postcode=parsed.postcode,
            occupation=parsed.occupation,
            q=parsed.q,
        )


def do_delete_saved_search(*, actor: Any, search_id: Any) -> None:
    """Delete one of my saved searches (404 for anyone else's). No event."""
    search = access.access_search(actor, search_id)
    search.delete()


def withdraw_all_posts_on_deletion(person: Any) -> None:
    """Account deletion (accounts.privacy): withdraw the person's open posts, so every
    card shows it live, then delete all their posts (matches and interest records go
    with them). Runs in the deletion's transaction; emits `post_updated` per card
    after the commit."""
    for post in Post.objects.filter(author=person).select_related("group"):
        if post.status == Status.OPEN:
            post.status = Status.WITHDRAWN
            post.closed_at = timezone.now()
            _refresh_cards(post)
    Post.objects.filter(author=person).delete()
