from django.test import Client


def test_home_page_is_german(db: object) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()
