import pytest

from tests.social.friendbook import FriendbookServer

CALLBACK = "/accounts/oidc/friendbook/login/callback/"

# A Friendbook member with names that appear nowhere else, so a scan of the database for them
# finds only what the store holds about this shopper.
QUENTIN = {
    "email": "quentin.zabrowski@friendbook.test",
    "first_name": "Quentin",
    "last_name": "Zabrowski",
    "birthdate": "1991-04-17",
    "gender": "male",
    "relationship_status": "married",
    "interests": ["Birdwatching", "Telescopes"],
    "friends": ["ana@friendbook.test"],
}


@pytest.fixture(scope="session")
def privacy_friendbook(tmp_path_factory):
    """Friendbook running as a subprocess (as in tests/social), with Quentin as a member."""
    server = FriendbookServer(
        tmp_path_factory.mktemp("friendbook-privacy"),
        redirect_uris=[f"http://testserver{CALLBACK}"],
        members=[QUENTIN],
    )
    yield server
    server.stop()


@pytest.fixture
def fb(privacy_friendbook, settings):
    providers = {**settings.SOCIALACCOUNT_PROVIDERS}
    app = {**providers["openid_connect"]["APPS"][0]}
    app["settings"] = {**app["settings"], "server_url": privacy_friendbook.url}
    providers["openid_connect"] = {"APPS": [app]}
    settings.SOCIALACCOUNT_PROVIDERS = providers
    return privacy_friendbook
