from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from chat import search_views
from server import legal, preferences, views
from server.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("impressum/", legal.impressum, name="impressum"),
    path("datenschutz/", legal.datenschutz, name="datenschutz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("board.urls")),
    path("gruppen/", include("groups.urls")),
    path("nachrichten/", include("chat.urls")),
    path("suche/", search_views.search_page, name="search"),
    path(
        "benachrichtigungen/einstellungen/",
        preferences.preferences,
        name="notification_preferences",
    ),
    path(
        "einstellungen/benachrichtigungen/",
        RedirectView.as_view(pattern_name="notification_preferences"),
    ),
    path("benachrichtigungen/", include("notifications.urls")),
    path("", include("engagement.urls")),
]

handler400 = "server.errors.bad_request"
handler403 = "server.errors.permission_denied"
handler404 = "server.errors.page_not_found"
handler500 = "server.errors.server_error"
