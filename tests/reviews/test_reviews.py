"""Reviews: one per shopper per product, verified buyers, moderation, votes, pages (issue 5)."""

import json
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization.models import Event
from shop.models import Order
from social.reviews import services
from social.reviews.exceptions import DuplicateReview, InvalidReview, NotAllowed, RateLimited
from social.reviews.models import HelpfulVote, Review
from tests.community_factories import XSS_CORPUS, OldUserFactory, assert_no_xss, order_for
from tests.factories import ProductFactory, UserFactory


def _review(*, product, user=None, rating=4, title="Nice", body="Really nice product overall."):
    user = user or UserFactory()
    order_for(user=user, product=product)  # verified buyers are approved automatically
    return services.review_create(user=user, product=product, rating=rating, title=title, body=body)


@pytest.mark.django_db
def test_verified_buyer_review_is_published_and_updates_the_product_rating():
    product = ProductFactory()
    review = _review(product=product, rating=5)
    _review(product=product, rating=2)
    product.refresh_from_db()
    assert review.verified_buyer and review.status == Review.Status.APPROVED
    assert (product.rating_avg, product.rating_count) == (Decimal("3.50"), 2)
    assert Event.objects.filter(kind=Event.Kind.REVIEW, product=product).count() == 2


@pytest.mark.django_db
def test_unverified_first_review_waits_for_moderation_and_does_not_count(settings):
    settings.AGORA_REVIEWS_AUTO_APPROVE = "verified"
    product = ProductFactory()
    review = services.review_create(
        user=UserFactory(), product=product, rating=5, title="Hm", body="Never bought it, sorry."
    )
    product.refresh_from_db()
    assert not review.verified_buyer and review.status == Review.Status.PENDING
    assert product.rating_count == 0
    staff = UserFactory(is_staff=True)
    with pytest.raises(InvalidReview):
        services.review_moderate(review_id=review.pk, status="rejected", actor=staff)
    services.review_moderate(review_id=review.pk, status="approved", actor=staff)
    product.refresh_from_db()
    assert product.rating_count == 1


@pytest.mark.django_db
def test_cancelled_order_does_not_make_a_verified_buyer():
    product, user = ProductFactory(), UserFactory()
    order_for(user=user, product=product, status=Order.Status.CANCELLED)
    assert not services.is_verified_buyer(user=user, product_id=product.pk)


@pytest.mark.django_db
def test_negative_reviews_are_never_held_for_being_negative(settings):
    settings.AGORA_REVIEWS_AUTO_APPROVE = "verified"
    review = _review(product=ProductFactory(), rating=1, body="Awful. Broke on day one, terrible.")
    assert review.status == Review.Status.APPROVED


@pytest.mark.django_db
def test_second_review_is_refused_and_the_first_stays_editable(client):
    product, user = ProductFactory(), UserFactory()
    _review(product=product, user=user, rating=3)
    with pytest.raises(DuplicateReview):
        services.review_create(user=user, product=product, rating=5, title="Again", body="x" * 20)
    client.force_login(user)
    url = reverse("reviews:write", args=[product.slug])
    data = {"rating": 5, "title": "Again", "body": "A second opinion on it.", "mode": "new"}
    response = client.post(url, data)
    assert response.status_code == 409
    assert b"already reviewed this product" in response.content
    response = client.post(url, {**data, "mode": "", "title": "Changed my mind"})
    assert response.status_code == 302
    review = Review.objects.get(author=user)
    assert (review.title, review.rating, review.text_version) == ("Changed my mind", 5, 2)
    assert review.edited_at is not None
    assert Review.objects.filter(author=user).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": 6, "title": "T", "body": "Long enough body."}, b"1 to 5 stars"),
        ({"rating": 0, "title": "T", "body": "Long enough body."}, b"1 to 5 stars"),
        ({"rating": "abc", "title": "T", "body": "Long enough body."}, b"1 to 5 stars"),
        ({"rating": 4, "title": "", "body": "Long enough body."}, b"This field is required"),
        ({"rating": 4, "title": "T", "body": "   "}, b"This field is required"),
        ({"rating": 4, "title": "T", "body": "x" * 5001}, b"at most 5000 characters"),
        ({"rating": 4, "title": "T" * 121, "body": "Long enough body."}, b"at most 120 characters"),
    ],
)
def test_bad_review_input_gets_a_clear_400(client, data, message):
    product, user = ProductFactory(), UserFactory()
    client.force_login(user)
    response = client.post(reverse("reviews:write", args=[product.slug]), data)
    assert response.status_code == 400
    assert message in response.content
    assert not Review.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("rating", [0, 6, -1, "5.5", None])
def test_service_rejects_rating_out_of_range(rating):
    with pytest.raises(InvalidReview):
        services.review_create(
            user=UserFactory(), product=ProductFactory(), rating=rating, title="T", body="x" * 20
        )


@pytest.mark.django_db
def test_editing_or_deleting_someone_elses_review_is_forbidden(client):
    review = _review(product=ProductFactory())
    intruder = UserFactory()
    with pytest.raises(NotAllowed):
        services.review_update(
            user=intruder, review_id=review.pk, rating=1, title="Hacked", body="x" * 20
        )
    client.force_login(intruder)
    response = client.post(reverse("reviews:delete", args=[review.pk]))
    assert response.status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


@pytest.mark.django_db
def test_helpful_votes_reports_and_staff_reply(client):
    product = ProductFactory()
    review = _review(product=product)
    voter = UserFactory()
    client.force_login(voter)
    url = reverse("reviews:helpful", args=[review.pk])
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 409
    assert client.post(url).status_code == 409
    review.refresh_from_db()
    assert review.helpful_count == 1
    report = reverse("reviews:report", args=[review.pk])
    assert client.post(report, {"reason": ""}).status_code == 400
    assert client.post(report, {"reason": "Spam link"}).status_code == 302
    assert client.post(report, {"reason": "Again"}).status_code == 409
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    client.post(reverse("reviews:reply", args=[review.pk]), {"reply": "Thanks for the review!"})
    page = client.get(product.get_absolute_url()).content.decode()
    assert "Thanks for the review!" in page and "Reply from Agora" in page


@pytest.mark.django_db
def test_sorting_and_filtering_by_stars(client):
    product = ProductFactory()
    for rating, title in [(1, "Worst"), (5, "Best"), (3, "Middle")]:
        _review(product=product, rating=rating, title=title)
    titles = lambda html: re.findall(r'class="review-title">([^<]+)<', html)  # noqa: E731
    url = product.get_absolute_url()
    assert titles(client.get(url + "?rsort=highest").content.decode()) == [
        "Best",
        "Middle",
        "Worst",
    ]
    assert titles(client.get(url + "?rsort=lowest").content.decode())[0] == "Worst"
    assert titles(client.get(url + "?rstars=3").content.decode()) == ["Middle"]
    assert client.get(url + "?rsort=bogus&rstars=99").status_code == 200


@pytest.mark.django_db
def test_rating_summary_and_json_ld(client):
    product = ProductFactory()
    for rating in (5, 5, 4, 1):
        _review(product=product, rating=rating, title=f"{rating} stars")
    html = client.get(product.get_absolute_url()).content.decode()
    assert "3.8" in html and "4 reviews" in html
    assert 'aria-label="2 reviews with 5 stars"' in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1)
    )
    assert data["aggregateRating"]["reviewCount"] == 4
    assert data["aggregateRating"]["ratingValue"] == "3.75"
    assert len(data["review"]) == 4
    assert data["review"][0]["@type"] == "Review"
    assert {r["reviewRating"]["ratingValue"] for r in data["review"]} == {5, 4, 1}


@pytest.mark.django_db
def test_product_cards_show_ratings_without_extra_queries(client):
    products = [ProductFactory() for _ in range(3)]
    for product in products:
        _review(product=product, rating=4)
    client.get("/")  # warm caches
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for product in [ProductFactory() for _ in range(5)]:
        _review(product=product, rating=2)
    with CaptureQueriesContext(connection) as more:
        html = client.get("/").content.decode()
    # the home page shows a product in "top rated" and in "new arrivals"
    assert html.count('aria-label="Rated 4.0 out of 5"') >= 3
    assert html.count('aria-label="Rated 2.0 out of 5"') >= 5
    assert len(more) == len(few)


def _product_page_queries(client, product):
    client.get(product.get_absolute_url())  # warm caches (category tree)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(product.get_absolute_url() + "?rsort=helpful")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_product_page_queries_do_not_grow_with_reviews(client):
    one, hundred = ProductFactory(), ProductFactory()
    viewer = OldUserFactory()
    _review(product=one)
    reviewers = [UserFactory() for _ in range(100)]
    for n, user in enumerate(reviewers):
        review = _review(product=hundred, user=user, rating=1 + n % 5)
        if n % 3 == 0:
            services.review_vote_helpful(user=viewer, review_id=review.pk)
    client.force_login(viewer)
    assert _product_page_queries(client, one) == _product_page_queries(client, hundred)
    client.logout()
    anonymous = _product_page_queries(client, hundred)
    assert anonymous == _product_page_queries(client, one)
    # 15: the page's queries, the like counts of the page's reviews in one grouped query (the
    # signed-in page adds one for followed likers), and the database session on SQLite
    assert anonymous <= 15, anonymous


@pytest.mark.django_db
@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_in_reviews_titles_and_names_never_reaches_the_page(client, payload):
    product = ProductFactory()
    author = UserFactory(first_name=payload[:150])
    order_for(user=author, product=product)
    client.force_login(author)
    body = f"Body {payload} end of my review."
    response = client.post(
        reverse("reviews:write", args=[product.slug]),
        {"rating": 4, "title": payload[:120], "body": body},
    )
    assert response.status_code == 302, response.content[:500]
    services.question_ask(user=author, product=product, text=f"Q {payload}")
    client.logout()
    html = client.get(product.get_absolute_url()).content.decode()
    assert "review-title" in html
    assert_no_xss(html)
    json_ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</" not in json_ld and "<" not in json_ld


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_helpful_votes_count_once_per_shopper():
    """Real threads on PostgreSQL: the unique constraint, not luck, keeps one vote per shopper."""
    review = _review(product=ProductFactory())
    same = UserFactory()
    others = [UserFactory() for _ in range(6)]
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def vote(user):
        try:
            barrier.wait()
            services.review_vote_helpful(user=user, review_id=review.pk)
            outcomes.append("ok")
        except services.AlreadyVoted:
            outcomes.append("dup")
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=(same,)) for _ in range(6)]
    threads += [threading.Thread(target=vote, args=(user,)) for user in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    review.refresh_from_db()
    assert outcomes.count("ok") == 7 and outcomes.count("dup") == 5
    assert HelpfulVote.objects.filter(review=review, user=same).count() == 1
    assert review.helpful_count == HelpfulVote.objects.filter(review=review).count() == 7


@pytest.mark.parametrize("payload", [p for p in XSS_CORPUS if "<" in p and not p.startswith("[")])
def test_the_xss_check_itself_catches_raw_markup(payload):
    """Guard for the guard: each HTML payload, left unescaped, fails assert_no_xss."""
    with pytest.raises(AssertionError):
        assert_no_xss(payload)


@pytest.mark.django_db
def test_writing_reviews_questions_and_answers_is_rate_limited(client, settings):
    settings.AGORA_REVIEWS_RATE_LIMITS = {"new": (2, 3600), "member": (3, 3600)}
    products = [ProductFactory() for _ in range(4)]
    newcomer, member = UserFactory(), OldUserFactory()
    services.review_create(user=newcomer, product=products[0], rating=5, title="A", body="x" * 20)
    services.question_ask(user=newcomer, product=products[1], text="Does it fit?")
    client.force_login(newcomer)
    response = client.post(
        reverse("reviews:write", args=[products[2].slug]),
        {"rating": 4, "title": "Third", "body": "Too many reviews in an hour."},
    )
    assert response.status_code == 429
    assert b"posting too fast" in response.content
    assert not Review.objects.filter(product=products[2]).exists()
    # members get a higher limit, and an edit counts as a write too
    for product in products[:3]:
        review = services.review_create(
            user=member, product=product, rating=4, title="Ok", body="x" * 20
        )
    with pytest.raises(RateLimited):
        services.review_update(
            user=member, review_id=review.pk, rating=1, title="Changed", body="y" * 20
        )
    with pytest.raises(RateLimited):
        services.question_ask(user=member, product=products[3], text="Is it waterproof?")
    # staff are never limited
    staff = UserFactory(is_staff=True)
    question = services.question_ask(user=staff, product=products[3], text="Staff asks?")
    for _ in range(4):
        services.question_answer(user=staff, question_id=question.pk, text="Staff answers.")


@pytest.mark.django_db
def test_a_rate_limited_question_gets_a_clear_429_page(client, settings):
    settings.AGORA_REVIEWS_RATE_LIMITS = {"new": (1, 3600), "member": (1, 3600)}
    product, user = ProductFactory(), UserFactory()
    client.force_login(user)
    url = reverse("reviews:ask", args=[product.slug])
    assert client.post(url, {"text": "First question?"}).status_code == 302
    response = client.post(url, {"text": "Second question?"})
    assert response.status_code == 429
    assert b"posting too fast" in response.content
