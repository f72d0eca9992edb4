"""Admin change lists a screen reader can use: every ``list_editable`` input has an accessible
name naming its column and row, and a filter's blank value is a link with text (axe found
both as critical / serious on the demo's admin, walked as the marketing and support roles)."""

import re

import pytest
from django.urls import reverse

from social.engagement.models import StoreSocialAccount
from social.models import SocialProfile
from social.textsignals.models import IntentRule
from tests.crm.helpers import staff
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

INPUT = re.compile(r"<input[^>]*name=\"form-\d+-(?:is_active|position|price|stock)\"[^>]*>")


@pytest.mark.parametrize(
    "url_name,expect",
    [
        ("admin:engagement_storesocialaccount_changelist", "Position: "),
        ("admin:textsignals_intentrule_changelist", "Is active: &quot;broke my&quot;"),
        ("admin:shop_product_changelist", "Price: Harbour Jacket"),
        ("admin:shop_variant_changelist", "Stock: "),
    ],
)
def test_list_editable_inputs_have_an_accessible_name(client, url_name, expect):
    category = CategoryFactory(name="Jackets")
    ProductFactory(name="Harbour Jacket", category=category)
    StoreSocialAccount.objects.create(
        network="instagram", label="@agora.store", url="https://example.com/agora", position=1
    )
    IntentRule.objects.create(phrase="broke my", intent="replacement", category=category)
    client.force_login(staff())
    body = client.get(reverse(url_name)).content.decode()
    inputs = INPUT.findall(body)
    assert inputs, "the change list has editable inputs to check"
    unlabelled = [i for i in inputs if 'aria-label="' not in i]
    assert unlabelled == []
    assert expect in body


def test_a_blank_age_band_filter_link_has_text(client):
    SocialProfile.objects.create(user=UserFactory(), provider="friendbook", age_band="")
    SocialProfile.objects.create(user=UserFactory(), provider="friendbook", age_band="25-34")
    client.force_login(staff())
    body = client.get(reverse("admin:social_socialprofile_changelist")).content.decode()
    assert 'href="?age_band="' in body, "the blank value is offered as a filter"
    assert re.search(r'href="\?age_band="[^>]*>\s*Not shared\s*</a>', body)
    assert re.search(r'href="\?age_band=25-34"[^>]*>\s*25-34\s*</a>', body)
