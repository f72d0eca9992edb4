"""Sentiment and staff-maintained intent rules on shoppers' own text (issue 5)."""

import pytest

from personalization.models import Event
from personalization.selectors import load_profile
from personalization.services import profile_build_incremental
from social.forums import services as forum_services
from social.reviews import services as review_services
from social.reviews.models import Review
from social.textsignals.analysis import RuleSpec, match_intents, own_text, sentiment
from social.textsignals.services import rules_changed, text_analyse, text_signal_store
from tests.community_factories import ForumCategoryFactory, IntentRuleFactory, OldUserFactory
from tests.factories import CategoryFactory, ProductFactory


def test_sentiment_offline_lexicon_scores_tone():
    assert sentiment("I love it, absolutely great quality!") > 0.5
    assert sentiment("Terrible. It broke after two days, awful and disappointing.") < -0.5
    assert -0.05 < sentiment("It is a bag.") < 0.05


def test_intent_rule_needs_the_phrase_followed_by_the_category():
    cameras = RuleSpec(
        rule_id=1, phrase="broke my", intent="replacement", category_id=7, category="Cameras"
    )
    [match] = match_intents("Yesterday I BROKE my old camera at the beach.", [cameras])
    assert (match.intent, match.category, match.matched) == (
        "replacement",
        "Cameras",
        "broke my old camera",
    )
    assert match_intents("I broke my arm, the camera is fine", [cameras]) == []
    assert match_intents("My camera broke", [cameras]) == []


def test_quoted_text_is_not_the_authors_own():
    assert "camera" not in own_text("> I broke my camera\n\nSorry to hear that!")


@pytest.mark.django_db
def test_rules_maintained_in_the_database_drive_detection():
    IntentRuleFactory(phrase="broke my")
    IntentRuleFactory(
        phrase="looking for",
        intent="purchase",
        category=CategoryFactory(name="Audio", slug="audio"),
        keywords="headphones, earbuds",
    )
    rules_changed()
    result = text_analyse(text="I broke my camera, and I am looking for new earbuds too.")
    found = {(i["intent"], i["category"]) for i in result["intents"]}
    assert found == {("replacement", "Cameras"), ("purchase", "Audio")}


@pytest.mark.django_db
def test_new_review_is_analysed_stored_and_recorded_for_its_author(
    django_capture_on_commit_callbacks,
):
    IntentRuleFactory()
    rules_changed()
    cameras = CategoryFactory(name="Cameras", slug="cameras")
    author = OldUserFactory()
    product = ProductFactory(category=cameras)
    with django_capture_on_commit_callbacks(execute=True):
        review = review_services.review_create(
            user=author,
            product=product,
            rating=5,
            title="Lifesaver",
            body="I broke my camera on holiday and this replacement is wonderful.",
        )
    review.refresh_from_db()
    assert review.sentiment > 0.3
    assert review.intents[0]["intent"] == "replacement"
    assert review.intents[0]["category_id"] == cameras.pk
    event = Event.objects.get(kind=Event.Kind.TEXT_SIGNAL)
    assert event.user == author and event.product == product
    assert event.attributes["source"] == "review"
    assert event.attributes["intents"][0]["category"] == "Cameras"
    # the attributes the preference profile reads (personalization.events.record_text_signal)
    assert event.attributes["intent"] == "replacement"
    assert event.attributes["category_id"] == cameras.pk
    assert event.attributes["sentiment"] > 0.3
    # a retried task changes nothing twice
    assert text_signal_store(model=Review, pk=review.pk, source="review") is False
    assert Event.objects.filter(kind=Event.Kind.TEXT_SIGNAL).count() == 1
    # and the author's profile now holds the intent and the sentiment
    profile_build_incremental()
    profile = load_profile(user_id=author.pk)
    assert [(i.intent, i.category_id) for i in profile.intents] == [("replacement", cameras.pk)]
    assert profile.average_sentiment > 0.3


@pytest.mark.django_db
def test_edited_post_is_analysed_again_and_quotes_are_ignored(django_capture_on_commit_callbacks):
    IntentRuleFactory()
    rules_changed()
    author, other = OldUserFactory(), OldUserFactory()
    topic = forum_services.topic_create(
        user=other,
        category=ForumCategoryFactory(),
        title="Camera trouble",
        body="I broke my camera yesterday!",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post = forum_services.post_create(
            user=author, topic_id=topic.pk, body="> I broke my camera yesterday!\n\nThat is sad."
        )
    post.refresh_from_db()
    assert post.intents == []  # the quote is someone else's text
    assert post.sentiment < 0
    with django_capture_on_commit_callbacks(execute=True):
        forum_services.post_edit(user=author, post_id=post.pk, body="Great news, it works again.")
    post.refresh_from_db()
    assert post.sentiment > 0 and post.analysed_version == post.text_version == 2
    signals = Event.objects.filter(kind=Event.Kind.TEXT_SIGNAL, user=author)
    assert signals.count() == 2
    assert {e.attributes["source"] for e in signals} == {"forum_post"}
