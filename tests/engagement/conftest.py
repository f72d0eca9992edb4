import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing test passwords with PBKDF2 dominates these tests' time; MD5 is fine here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
