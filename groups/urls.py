"""Pages under /gruppen/ (German paths)."""

from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("neu/", views.group_new, name="new"),
    path("einladungen/", views.my_invitations, name="invitations"),
    path(
        "einladungen/<int:invitation_id>/annehmen/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "einladungen/<int:invitation_id>/ablehnen/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("<slug:slug>/", views.group_detail, name="detail"),
    path("<slug:slug>/beitreten/", views.group_join, name="join"),
    path("<slug:slug>/zurueckziehen/", views.group_withdraw, name="withdraw"),
    path("<slug:slug>/verlassen/", views.group_leave, name="leave"),
    path(
        "<slug:slug>/benachrichtigungen/",
        views.group_notification_level,
        name="notification_level",
    ),
    path("<slug:slug>/einstellungen/", views.group_settings, name="settings"),
    path("<slug:slug>/archivieren/", views.group_archive, name="archive"),
    path("<slug:slug>/einladen/", views.group_invite, name="invite"),
    path(
        "<slug:slug>/einladungen/<int:invitation_id>/zuruecknehmen/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<slug:slug>/uebertragen/", views.group_transfer, name="transfer"),
    path("<slug:slug>/mitglieder/<int:user_id>/rolle/", views.member_role, name="member_role"),
    path(
        "<slug:slug>/mitglieder/<int:user_id>/entfernen/",
        views.member_remove,
        name="member_remove",
    ),
    path("<slug:slug>/anfragen/", views.group_requests, name="requests"),
    path("<slug:slug>/meldungen/", views.group_reports, name="reports"),
    path(
        "<slug:slug>/meldungen/<int:message_id>/entscheiden/",
        views.report_decide,
        name="report_decide",
    ),
    path(
        "<slug:slug>/anfragen/<int:request_id>/annehmen/",
        views.request_approve,
        name="request_approve",
    ),
    path(
        "<slug:slug>/anfragen/<int:request_id>/ablehnen/",
        views.request_decline,
        name="request_decline",
    ),
]
