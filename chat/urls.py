"""Pages under /nachrichten/."""

from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:conversation_id>/", views.conversation_page, name="conversation"),
    path("an/<int:user_id>/", views.start_direct, name="start_direct"),
    path("gruppe/", views.start_group_direct, name="start_group_direct"),
]
