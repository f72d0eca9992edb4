import pytest

from .friendbook import FriendbookServer

CALLBACK = "/accounts/oidc/friendbook/login/callback/"


@pytest.fixture(scope="session")
def friendbook(tmp_path_factory):
    """Friendbook running as a subprocess; the test client's callback URL is registered."""
    server = FriendbookServer(
        tmp_path_factory.mktemp("friendbook"), redirect_uris=[f"http://testserver{CALLBACK}"]
    )
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def store_uses(settings):
    """Point the store's Friendbook app at a given URL for one test."""

    def point(url: str):
        providers = {**settings.SOCIALACCOUNT_PROVIDERS}
        app = {**providers["openid_connect"]["APPS"][0]}
        app["settings"] = {**app["settings"], "server_url": url}
        providers["openid_connect"] = {"APPS": [app]}
        settings.SOCIALACCOUNT_PROVIDERS = providers

    return point


@pytest.fixture
def fb(friendbook, store_uses):
    store_uses(friendbook.url)
    return friendbook
