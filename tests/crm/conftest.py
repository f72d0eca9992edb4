import pytest

from tests.crm.helpers import customer_with_everything


@pytest.fixture
def rich(django_capture_on_commit_callbacks):
    """``rich(helper=..., n=...)``: a customer with everything, after-commit work done (text
    analysis, profile rebuilds), as a shopper's requests would leave it."""

    def make(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return customer_with_everything(**kwargs)

    return make
