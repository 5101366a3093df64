from django.urls import path

from engagement import views

app_name = "engagement"

urlpatterns = [
    path("willkommen/", views.welcome, name="welcome"),
    path("willkommen/gruppe/", views.welcome_group, name="welcome_group"),
    path("netzwerk/gesundheit/", views.health_page, name="health"),
]
