"""Pages under /brett/ and the group tab under /gruppen/<slug>/gesuche-angebote/."""

from django.urls import path

from board import views

app_name = "board"

urlpatterns = [
    path("brett/", views.board_page, name="board"),
    path("brett/suchen/", views.searches, name="searches"),
    path("brett/suchen/speichern/", views.search_save, name="search_save"),
    path("brett/suchen/<int:search_id>/loeschen/", views.search_delete, name="search_delete"),
    path("brett/<int:post_id>/", views.post_detail, name="post"),
    path("brett/<int:post_id>/status/", views.post_status, name="post_status"),
    path("brett/<int:post_id>/interesse/", views.post_contact, name="post_contact"),
    path("gruppen/<slug:slug>/gesuche-angebote/", views.group_board, name="group"),
    path("gruppen/<slug:slug>/gesuche-angebote/neu/", views.new_post, name="new"),
]
