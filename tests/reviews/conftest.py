import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test shoppers need a password, not a slow hash of it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
