import pytest
from django.core.cache import cache
from django.urls import reverse

from social.engagement import profile_sections, services
from social.engagement.models import PublicProfile, StoreSocialAccount
from social.models import Connection
from tests.engagement_factories import public_shopper
from tests.factories import ProductFactory, ProductImageFactory, UserFactory


def profile_url(user):
    return reverse("engagement:profile", args=[user.public_profile.handle])


@pytest.mark.django_db
def test_profiles_are_private_until_the_shopper_opts_in(client):
    shopper = UserFactory(username="mila")
    profile = services.profile_get_or_create(user=shopper)
    assert (profile.is_public, profile.likes_public) == (False, False)
    assert client.get(profile_url(shopper)).status_code == 404

    client.force_login(shopper)
    response = client.post(
        reverse("engagement:profile_settings"),
        {"is_public": "on", "likes_public": "on", "handle": "mila", "display_name": "Mila K"},
    )
    assert response.status_code == 302
    client.logout()
    html = client.get(reverse("engagement:profile", args=["mila"])).content.decode()
    assert "Mila K" in html


@pytest.mark.django_db
def test_owner_sees_their_private_profile_with_a_warning(client):
    shopper = UserFactory()
    services.profile_get_or_create(user=shopper)
    client.force_login(shopper)
    response = client.get(profile_url(shopper))
    assert response.status_code == 200
    assert "Only you can see this page" in response.content.decode()


@pytest.mark.django_db
def test_profile_settings_reject_a_taken_or_bad_handle(client):
    public_shopper(name="Ana", username="ana")
    shopper = UserFactory()
    client.force_login(shopper)
    response = client.post(reverse("engagement:profile_settings"), {"handle": "ana"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    response = client.post(reverse("engagement:profile_settings"), {"handle": "no spaces!"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_public_profile_shows_public_likes(client):
    product = ProductFactory(name="Wool Scarf")
    ana = public_shopper(name="Ana")
    services.like_add(user=ana, obj=product)
    html = client.get(profile_url(ana)).content.decode()
    assert "Wool Scarf" in html


@pytest.mark.django_db
def test_follow_and_unfollow_with_and_without_htmx(client):
    ana, me = public_shopper(name="Ana"), UserFactory()
    client.force_login(me)
    url = reverse("engagement:follow", args=[ana.public_profile.handle])

    response = client.post(url, {"action": "follow"})
    assert response.status_code == 302 and response["Location"] == profile_url(ana)
    assert Connection.objects.filter(follower=me, followed=ana, kind="follow").exists()
    assert client.post(url, {"action": "follow"}).status_code == 302  # a double click: no change
    assert Connection.objects.filter(follower=me).count() == 1
    assert "1 follower" in client.get(profile_url(ana)).content.decode()

    response = client.post(url, {"action": "unfollow"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert ">Follow</button>" in response.content.decode()
    assert not Connection.objects.filter(follower=me).exists()


@pytest.mark.django_db
def test_unfollow_leaves_social_network_friendships_alone(client):
    ana, me = public_shopper(name="Ana"), UserFactory()
    Connection.objects.create(follower=me, followed=ana, kind="friend")
    client.force_login(me)
    url = reverse("engagement:follow", args=[ana.public_profile.handle])
    assert client.post(url).status_code == 302
    assert Connection.objects.filter(follower=me, followed=ana, kind="follow").exists()
    response = client.post(url, {"action": "unfollow"})
    assert response.status_code == 302
    assert not Connection.objects.filter(follower=me, kind="follow").exists()  # it did unfollow
    assert Connection.objects.filter(follower=me, followed=ana, kind="friend").exists()


@pytest.mark.django_db
def test_following_rules_give_clear_errors(client):
    me = public_shopper(name="Me")
    private = UserFactory()
    services.profile_get_or_create(user=private)
    client.force_login(me)

    response = client.post(reverse("engagement:follow", args=[me.public_profile.handle]))
    assert response.status_code == 400 and "cannot follow yourself" in response.content.decode()
    response = client.post(reverse("engagement:follow", args=[private.public_profile.handle]))
    assert response.status_code == 404 and "private or does not exist" in response.content.decode()
    response = client.post(reverse("engagement:follow", args=["nobody-here"]))
    assert response.status_code == 404
    response = client.post(
        reverse("engagement:follow", args=[me.public_profile.handle]), {"action": "poke"}
    )
    assert response.status_code == 400
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_anonymous_follow_asks_to_sign_in_and_come_back(client):
    ana = public_shopper(name="Ana")
    response = client.post(
        reverse("engagement:follow", args=[ana.public_profile.handle]),
        {"next": profile_url(ana)},
    )
    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("account_login") + "?next=%2Fu%2F" + ana.public_profile.handle + "%2F"
    )


@pytest.mark.django_db
def test_other_apps_can_add_profile_sections(client, tmp_path, settings):
    ana = public_shopper(name="Ana")
    template_dir = tmp_path / "templates"
    (template_dir / "demo").mkdir(parents=True)
    (template_dir / "demo" / "_posts.html").write_text(
        "{% for post in items %}<p class='post'>{{ post }}</p>{% endfor %}"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], template_dir]}
    ]
    profile_sections.register(
        key="posts",
        title="Forum posts",
        template="demo/_posts.html",
        items=lambda *, user, viewer: [f"post by {user.first_name}"],
    )
    try:
        html = client.get(profile_url(ana)).content.decode()
    finally:
        profile_sections.unregister("posts")
    assert "Forum posts" in html and "post by Ana" in html


@pytest.mark.django_db
def test_account_links_show_my_likes_and_profile(client):
    client.force_login(UserFactory())
    html = client.get(reverse("shop:home")).content.decode()
    assert f'href="{reverse("engagement:my_likes")}">My likes' in html
    assert f'href="{reverse("engagement:profile_settings")}">Profile' in html


@pytest.mark.django_db
def test_product_page_has_open_graph_and_twitter_card_tags(client, settings):
    settings.SITE_URL = "https://agora.example"
    product = ProductFactory(name="Trail <Runner>", description="Light & fast.")
    ProductImageFactory(product=product, alt="A shoe")
    html = client.get(product.get_absolute_url()).content.decode()
    url = f"https://agora.example{product.get_absolute_url()}"
    assert '<meta property="og:type" content="product">' in html
    assert '<meta property="og:title" content="Trail &lt;Runner&gt;">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:image" content="https://agora.example/media/' in html
    assert '<meta property="product:price:amount" content="20.00">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<meta name="twitter:description" content="Light &amp; fast.">' in html
    assert '"@type": "Product"' in html  # the shop's JSON-LD is still there


@pytest.mark.django_db
def test_product_page_has_like_button_and_share_bar(client):
    product = ProductFactory()
    html = client.get(product.get_absolute_url()).content.decode()
    assert reverse("engagement:like", args=["product", product.pk]) in html
    for channel in ("facebook", "x", "linkedin", "pinterest", "whatsapp", "email", "copy"):
        assert reverse("engagement:share", args=["product", product.pk, channel]) in html
    assert "data-share-native hidden" in html  # shown by JS only where the browser has it
    assert "/static/js/engagement.js" in html


@pytest.mark.django_db
def test_follow_us_block_lists_active_store_accounts_and_updates_from_admin(client):
    StoreSocialAccount.objects.create(
        network="instagram", label="@agora.store", url="https://instagram.com/agora.store"
    )
    StoreSocialAccount.objects.create(
        network="x", label="@old", url="https://x.com/old", is_active=False
    )
    html = client.get(reverse("shop:home")).content.decode()
    assert "Follow us" in html and "@agora.store" in html and "@old" not in html

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:engagement_storesocialaccount_add"),
        {
            "network": "pinterest",
            "label": "agorapins",
            "url": "https://pinterest.com/a",
            "position": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert "agorapins" in client.get(reverse("shop:home")).content.decode()
    assert cache.get("engagement:store_accounts") is not None


@pytest.mark.django_db
def test_profile_handle_is_made_unique():
    a = UserFactory(username="same")
    PublicProfile.objects.create(user=UserFactory(), handle="same")
    assert services.profile_get_or_create(user=a).handle == "same-2"
