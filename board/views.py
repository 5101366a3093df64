"""The German pages of the board: parse, call an action or access function, answer.

/brett/                 the board across all groups I may read, with filters
/brett/<id>/            one post: fields, "Interesse", mark filled / withdrawn, matches
/brett/suchen/          my saved searches
/gruppen/<slug>/gesuche-angebote/        the group's tab
/gruppen/<slug>/gesuche-angebote/neu/    the form per category (inline German errors)
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from board import access, presentation
from board.actions import (
    do_contact_post_author,
    do_create_post,
    do_create_saved_search,
    do_delete_saved_search,
    do_update_post_status,
)
from board.filters import STATUS_ALL, BoardFilters
from board.models import Category, Kind, Post, SavedSearch, Status
from board.occupations import all_occupations
from board.validation import FIELDS_OF, SCHOOL_LEAVING, VEHICLES
from groups.access import access_group, can_write_messages
from groups.api import page
from realtime.errors import ClientError

PAGE_SIZE = 20
# German query parameters of the pages -> the API's filter names.
PARAMS = {
    "art": "kind",
    "kategorie": "category",
    "gruppe": "group",
    "ort": "city",
    "plz": "postcode",
    "q": "q",
    "beruf": "occupation",
    "status": "status",
    "datum": "date",
    "nahe": "near",
    "km": "km",
}
ALERT_CHOICES = [
    ("immediate", "Sofort benachrichtigen"),
    ("daily", "Täglich in der Zusammenfassung"),
    ("off", "Keine Benachrichtigung"),
]


def card(post: Post, user: Any) -> dict[str, Any]:
    status = access.effective_status(post)
    return {
        "post": post,
        "kind_label": presentation.kind_label(post.category, post.kind),
        "summary": presentation.summary_of(post),
        "status": status,
        "status_label": presentation.status_label(status),
        "mine": post.author_id == user.pk,
    }


def parse_filters(query: QueryDict, *, group: str = "") -> tuple[BoardFilters, dict[str, str]]:
    """Filters from the German query; wrong ones are left out and explained."""
    raw = {PARAMS[key]: query[key] for key in PARAMS if query.get(key)}
    if group:
        raw["group"] = group
    try:
        return BoardFilters.parse(raw), {}
    except ClientError as error:
        errors = {name: " ".join(texts) for name, texts in (error.fields or {}).items()}
        kept = {name: value for name, value in raw.items() if name not in errors}
        return BoardFilters.parse(kept), errors


def listing(request: HttpRequest, filters: BoardFilters) -> dict[str, Any]:
    user: Any = request.user
    try:
        rows, following = page(access.board(user, filters), request.GET.get("cursor"), PAGE_SIZE)
    except ClientError:
        rows, following = page(access.board(user, filters), None, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("cursor", None)
    next_url = None
    if following:
        query["cursor"] = following
        next_url = f"?{query.urlencode()}"
    return {"cards": [card(post, user) for post in rows], "next_url": next_url}


def choices_context() -> dict[str, Any]:
    return {
        "kinds": Kind.choices,
        "categories": Category.choices,
        "statuses": [*Status.choices, (STATUS_ALL, "Alle")],
        "vehicles": list(VEHICLES.items()),
        "school_leaving": list(SCHOOL_LEAVING.items()),
        "alerts": ALERT_CHOICES,
    }


@login_required
def board_page(request: HttpRequest) -> HttpResponse:
    filters, errors = parse_filters(request.GET)
    user: Any = request.user
    return render(
        request,
        "board/board.html",
        {
            **listing(request, filters),
            **choices_context(),
            "filters": filters,
            "filter_errors": errors,
            "groups": access.readable_groups(user).order_by("name"),
            "occupation_names": [o.name for o in all_occupations()],
            "saved_filters": filters.saved_values(),
        },
    )


@login_required
def group_board(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    user: Any = request.user
    readable = access.readable_groups(user).filter(pk=group.pk).exists()
    context: dict[str, Any] = {
        "group": group,
        "can_read": readable,
        "can_post": can_write_messages(user, group),
        **choices_context(),
    }
    if readable:
        filters, errors = parse_filters(request.GET, group=group.slug)
        context.update(listing(request, filters), filters=filters, filter_errors=errors)
    return render(request, "board/group_board.html", context)


def _group_or_404(request: HttpRequest, slug: str) -> Any:
    try:
        return access_group(request.user, slug)
    except ClientError as error:
        raise Http404(error.detail) from error


@login_required
def new_post(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    user: Any = request.user
    if not can_write_messages(user, group):
        messages.error(request, "Nur Mitglieder der Gruppe können Gesuche und Angebote einstellen.")
        return redirect("board:group", slug=group.slug)
    source = request.POST if request.method == "POST" else request.GET
    category = source.get("kategorie") or source.get("category") or Category.FREIGHT
    if category not in Category.values:
        category = Category.FREIGHT
    kind = source.get("art") or source.get("kind") or Kind.OFFER
    values = {name: request.POST.get(name, "") for name in FIELDS_OF[Category(category)]}
    errors: dict[str, str] = {}
    if request.method == "POST":
        fields: dict[str, Any] = {name: value for name, value in values.items() if value != ""}
        if category == Category.FREIGHT:
            fields["adr"] = request.POST.get("adr") == "on"
        try:
            created = do_create_post(
                actor=user,
                group_slug=group.slug,
                kind=request.POST.get("kind"),
                category=category,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                fields=fields,
                valid_until=request.POST.get("valid_until") or None,
            )
        except ClientError as error:
            errors = {
                name.removeprefix("fields."): " ".join(texts)
                for name, texts in (error.fields or {}).items()
            }
            if not errors:
                messages.error(request, error.detail)
        else:
            found = access.matches_of_post(user, created.post).count()
            note = ""
            if found:
                words = "passender Eintrag" if found == 1 else "passende Einträge"
                note = f" {found} {words} gefunden."
            messages.success(
                request, f"Ihr Eintrag „{created.post.title}“ ist veröffentlicht.{note}"
            )
            return redirect("board:post", post_id=created.post.pk)
    return render(
        request,
        "board/new.html",
        {
            "group": group,
            "category": category,
            "kind": kind,
            "values": values,
            "title": request.POST.get("title", ""),
            "body": request.POST.get("body", ""),
            "valid_until": request.POST.get("valid_until", ""),
            "adr": request.POST.get("adr") == "on",
            "errors": errors,
            "occupation_names": [o.name for o in all_occupations()],
            "kind_options": [
                (value, presentation.kind_label(category, value)) for value in Kind.values
            ],
            "category_links": [
                (value, label, value == category) for value, label in Category.choices
            ],
            **choices_context(),
        },
    )


def _post_or_404(request: HttpRequest, post_id: int) -> Post:
    try:
        return access.access_post(request.user, post_id)
    except ClientError as error:
        raise Http404(error.detail) from error


@login_required
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _post_or_404(request, post_id)
    user: Any = request.user
    matches = access.matches_of_post(user, post) if post.author_id == user.pk else []
    return render(
        request,
        "board/post.html",
        {
            **card(post, user),
            "fields": field_rows(post),
            "may_change": access.may_change(user, post),
            "matches": [card(other, user) for other in list(matches)[:20]],
        },
    )


def field_rows(post: Post) -> list[tuple[str, str]]:
    fields = post.fields
    if post.category == Category.FREIGHT:
        return [
            ("Beladung", presentation.place(fields["from_city"], fields["from_postcode"])),
            ("Entladung", presentation.place(fields["to_city"], fields["to_postcode"])),
            ("Zeitraum", presentation.window(fields["earliest"], fields["latest"])),
            ("Lademeter", f"{presentation.number(fields['loading_metres'], 1)} m"),
            ("Gewicht", f"{presentation.number(fields['weight_t'], 2)} t"),
            ("Aufbau", VEHICLES.get(fields["vehicle"], fields["vehicle"])),
            ("Gefahrgut (ADR)", "ja" if fields.get("adr") else "nein"),
        ]
    if post.category == Category.APPRENTICESHIP:
        return [
            ("Ausbildungsberuf", fields["occupation"]),
            ("Ort", presentation.place(fields["city"], fields["postcode"])),
            ("Beginn", presentation.day(fields["start"])),
            ("Plätze", str(fields.get("places") or 1)),
            ("Schulabschluss", SCHOOL_LEAVING.get(fields["school_leaving"], "")),
        ]
    return []


@login_required
@require_POST
def post_status(request: HttpRequest, post_id: int) -> HttpResponse:
    status = request.POST.get("status")
    try:
        do_update_post_status(actor=request.user, post_id=post_id, status=status)
    except ClientError as error:
        if error.code == "not_found":
            raise Http404(error.detail) from error
        messages.error(request, error.detail)
    else:
        messages.success(
            request, f"Der Eintrag ist jetzt {presentation.status_label(str(status))}."
        )
    return redirect("board:post", post_id=post_id)


@login_required
@require_POST
def post_contact(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        conversation, _ = do_contact_post_author(
            actor=request.user, post_id=post_id, message=request.POST.get("message", "")
        )
    except ClientError as error:
        if error.code == "not_found":
            raise Http404(error.detail) from error
        messages.error(request, error.detail)
        return redirect("board:post", post_id=post_id)
    return redirect("chat:conversation", conversation.pk)


@login_required
def searches(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "board/searches.html",
        {"searches": [(s, search_query(s)) for s in access.my_searches(user)], **choices_context()},
    )


def search_query(search: SavedSearch) -> str:
    reverse = {api: german for german, api in PARAMS.items()}
    query = QueryDict(mutable=True)
    for name, value in search.filters.items():
        if name in reverse:
            query[reverse[name]] = value
    return query.urlencode()


@login_required
@require_POST
def search_save(request: HttpRequest) -> HttpResponse:
    filters = {name: request.POST[name] for name in BoardFilters.SAVED if request.POST.get(name)}
    try:
        search = do_create_saved_search(
            actor=request.user,
            name=request.POST.get("name", ""),
            filters=filters,
            alert=request.POST.get("alert"),
        )
    except ClientError as error:
        detail = " ".join(" ".join(texts) for texts in (error.fields or {}).values())
        messages.error(request, detail or error.detail)
        return redirect("board:searches")
    messages.success(request, f"Die Suche „{search.name}“ ist gespeichert.")
    return redirect("board:searches")


@login_required
@require_POST
def search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    try:
        do_delete_saved_search(actor=request.user, search_id=search_id)
    except ClientError as error:
        raise Http404(error.detail) from error
    messages.success(request, "Die Suche ist gelöscht.")
    return redirect("board:searches")
