"""The demo seed's API hint names the store that ``make run`` serves (``SITE_URL``), so a
newcomer on ``PORT=8300`` can paste the curl line as printed."""

import io

import pytest
from django.contrib.auth import get_user_model

from api.demo import seed
from api.models import PersonalAccessToken


@pytest.mark.django_db
def test_demo_token_hint_uses_the_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8300"
    staff = get_user_model().objects.create_user(
        username="demo-staff", email="staff@agora.test", password="x", is_staff=True
    )
    assert not PersonalAccessToken.objects.filter(user=staff).exists()
    out = io.StringIO()
    seed(stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8300/api/v1/staff/customers/" in printed
    assert "127.0.0.1:8000" not in printed
    assert PersonalAccessToken.objects.filter(user=staff).count() == 1
