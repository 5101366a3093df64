"""Pages of the notifications app, mounted at /benachrichtigungen/."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.centre, name="centre"),
    path("<int:notification_id>/", views.open_notification, name="open"),
    path("<int:notification_id>/gelesen/", views.mark_read, name="mark_read"),
    path("alle-gelesen/", views.mark_all_read, name="mark_all_read"),
    path("abmelden/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
