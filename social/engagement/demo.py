"""Demo data for likes, follows, public profiles and the store's social accounts. Idempotent."""

import random

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from shop.models import Product
from social.models import Connection

from . import services
from .models import Like, PublicProfile, StoreSocialAccount

STORE_ACCOUNTS = [
    ("instagram", "@agora.store", "https://www.instagram.com/agora.store/"),
    ("facebook", "Agora Store", "https://www.facebook.com/agora.store"),
    ("x", "@agorastore", "https://x.com/agorastore"),
    ("pinterest", "agorastore", "https://www.pinterest.com/agorastore/"),
]


@transaction.atomic
def seed(*, stdout) -> None:
    rng = random.Random(4)  # the same demo every time
    for position, (network, label, url) in enumerate(STORE_ACCOUNTS):
        StoreSocialAccount.objects.get_or_create(
            network=network, defaults={"label": label, "url": url, "position": position}
        )
    services.store_accounts_changed()

    # shopper01 … shopperNN only: the CRM seed adds "shopper07-old" after this runs, and taking
    # it in on a second run would shift the random picks and add a new set of likes.
    shoppers = list(
        get_user_model().objects.filter(username__regex=r"^shopper[0-9]+$").order_by("username")
    )
    product_ids = list(Product.objects.visible().order_by("pk").values_list("pk", flat=True))
    if not shoppers or not product_ids:
        stdout.write("engagement: no shoppers or products, skipped likes and follows")
        return
    # Two thirds of the shoppers have a public profile; half of those show their likes.
    for n, user in enumerate(shoppers):
        if not PublicProfile.objects.filter(user=user).exists():
            PublicProfile.objects.create(
                user=user,
                handle=services.unique_handle(user),
                display_name=user.first_name,
                is_public=n % 3 != 2,
                likes_public=n % 3 != 2 and n % 2 == 0,
            )

    content_type = ContentType.objects.get_for_model(Product)
    popular = product_ids[:: max(len(product_ids) // 30, 1)]  # some products many like
    likes = []
    for user in shoppers:
        picks = set(rng.sample(popular, min(6, len(popular))))
        picks |= set(rng.sample(product_ids, min(6, len(product_ids))))
        likes += [Like(user=user, content_type=content_type, object_id=pk) for pk in picks]
    Like.objects.bulk_create(likes, ignore_conflicts=True)

    public = list(
        get_user_model().objects.filter(
            pk__in=[u.pk for u in shoppers], public_profile__is_public=True
        )
    )
    edges = []
    for user in shoppers:
        for other in rng.sample(public, min(8, len(public))):
            if other.pk != user.pk:
                edges.append(Connection(follower=user, followed=other, kind="follow"))
    Connection.objects.bulk_create(edges, ignore_conflicts=True)
    stdout.write(
        f"engagement: {Like.objects.count()} likes, "
        f"{Connection.objects.count()} connections, {len(public)} public profiles"
    )
