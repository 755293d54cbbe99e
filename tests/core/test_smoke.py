from tests.support import WebClient


def test_home_page_renders_in_french_by_default(client: WebClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
