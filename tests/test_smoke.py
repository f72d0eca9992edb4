import pytest
from django.urls import reverse

from tests.factories import ProductFactory


@pytest.mark.django_db
def test_home_and_product_pages_render(client):
    product = ProductFactory(name="Trail Runner", stock=3)
    assert client.get(reverse("shop:home")).status_code == 200
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    assert b"Trail Runner" in response.content
    assert product.variants.get().stock == 3
