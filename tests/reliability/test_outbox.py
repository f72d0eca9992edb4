"""Redis down: the tasks a shopper's or a staff member's act asks for are parked in PostgreSQL
(``taskoutbox``) and run once Redis is back (issue 16).

A Redis of the test's own is the broker of this process and of a real Celery worker; it is
stopped while a review, a forum topic, an order status change, a consent revoke, a CRM export
and a data copy request go through their services. Every call is parked; each parked row is
then published *twice* (at least once is the outbox's promise), and the worker does every piece
of work exactly once: the review and the post analysed, one email per notification, status and
ready data copy, the profile rebuilt without the revoked data, the export file built.
"""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection

from config import mailsink
from crm import services as crm_services
from crm.models import ExportJob
from personalization.models import Event, PreferenceProfile
from privacy import services as privacy_services
from privacy.models import DataExport
from shop import services as shop_services
from shop.models import Order
from social import consent
from social import services as social_services
from social.forums import services as forums
from social.forums.models import Notification, Post
from social.reviews import services as reviews
from taskoutbox.models import ParkedTask
from taskoutbox.services import parked_publish
from tests.community_factories import ForumCategoryFactory, OldUserFactory, order_for
from tests.crm.helpers import staff
from tests.factories import ProductFactory
from tests.taskoutbox.broker import broker_at

from .servers import OwnRedis
from .stack import Workers, database_url, free_port, stack_env, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]

PROFILE = {"display_name": "Ana Lima", "gender": "female", "interests": ["Tea", "Chess"]}
EXPECTED_TASKS = sorted(
    [
        "social.reviews.tasks.analyse_review",
        "social.forums.tasks.analyse_post",
        "social.forums.tasks.send_notification_emails",
        "shop.tasks.send_order_status_email",
        "personalization.tasks.rebuild_profile",
        "crm.tasks.run_export",
        "privacy.tasks.build_export",
    ]
)


@pytest.fixture
def sink(tmp_path):
    port = free_port()
    controller = mailsink.start(port=port, path=tmp_path / "mail")
    controller.port, controller.path = port, tmp_path / "mail"
    yield controller
    controller.handler.release()
    controller.stop()


def subjects(sink) -> list[str]:
    return sorted(str(m["Subject"]) for m in mailsink.messages(sink.path))


def demographics(user) -> dict:
    profile = PreferenceProfile.objects.filter(user=user).first()
    return profile.demographics if profile else {}


def test_redis_down_parks_every_task_and_each_runs_once_when_it_is_back(tmp_path, sink):
    shopper, author, watcher = OldUserFactory(), OldUserFactory(), OldUserFactory()
    product = ProductFactory()
    order = order_for(user=shopper, product=product, status=Order.Status.PAID)
    category = ForumCategoryFactory()
    forums.subscription_set(user=watcher, category=category, on=True)
    SocialAccount.objects.create(user=shopper, provider="friendbook", uid=str(shopper.pk))
    social_services.consent_apply_sign_in(  # eager here: the profile is built in-process
        user=shopper,
        provider="friendbook",
        granted={consent.GENDER, consent.INTERESTS},
        profile=PROFILE,
    )
    assert demographics(shopper).get("gender") == "female"  # precondition
    clerk = staff()

    own = OwnRedis(tmp_path)
    own.start()
    env = stack_env(
        database_url=database_url(connection.settings_dict),
        redis_url=own.url,
        mail_port=sink.port,
        web_port=free_port(),
    )
    env["AGORA_EVENT_STREAM"] = "0"  # the worker's events go straight to PostgreSQL: countable
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    workers = Workers(env, tmp_path)
    try:
        with broker_at(own.url, queue=queue):
            own.stop()  # Redis (the broker) goes away

            review = reviews.review_create(
                user=shopper, product=product, rating=4, title="Warm", body="Kept me warm all day."
            )
            topic = forums.topic_create(
                user=author, category=category, title="Rain jackets", body="Which one for rain?"
            )
            shop_services.order_set_status(order_id=order.pk, status=Order.Status.SHIPPED)
            social_services.consent_revoke(user=shopper, category=consent.GENDER)
            job = crm_services.export_start(
                actor=clerk, resource="customers", file_format="csv", ids=[shopper.pk]
            )
            export = privacy_services.export_request(user=shopper)

            parked = sorted(ParkedTask.objects.values_list("task", flat=True))
            assert parked == EXPECTED_TASKS, "a task was lost (or queued) while Redis was down"
            assert parked_publish() == 0  # still down: nothing published, nothing dropped
            assert ParkedTask.objects.count() == len(EXPECTED_TASKS)
            assert demographics(shopper).get("gender") == "female"  # nothing ran yet

            own.start()  # Redis is back
            # At least once: every parked call is published twice (as if a drainer had
            # crashed after publishing, before its delete committed).
            ParkedTask.objects.bulk_create(
                [
                    ParkedTask(task=r.task, args=r.args, kwargs=r.kwargs, options=r.options)
                    for r in ParkedTask.objects.all()
                ]
            )
            assert parked_publish() == 2 * len(EXPECTED_TASKS)
            assert not ParkedTask.objects.exists()
            workers.start()

            post = Post.objects.get(topic=topic)
            note = Notification.objects.get(user=watcher, post=post)

            def done() -> bool:
                review.refresh_from_db()
                post.refresh_from_db()
                note.refresh_from_db()
                return (
                    review.analysed_version == review.text_version
                    and post.analysed_version == post.text_version
                    and note.emailed_at is not None
                    and ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE
                    and DataExport.objects.get(pk=export.pk).ready_emailed_at is not None
                    and Order.objects.get(pk=order.pk).status_emailed == Order.Status.SHIPPED
                    and "gender" not in demographics(shopper)
                )

            assert wait_for(done, timeout=300), (tmp_path / "worker-0.log").read_text()[-3000:]
            # A sentinel queued last: once it has run, so has every duplicate before it.
            sentinel = order_for(user=author, product=product, status=Order.Status.PAID)
            Order.objects.filter(pk=sentinel.pk).update(confirmation_due=True)
            from shop.tasks import send_order_confirmation

            send_order_confirmation.delay(sentinel.pk)
            assert wait_for(
                lambda: not Order.objects.get(pk=sentinel.pk).confirmation_due, timeout=240
            )
    finally:
        workers.stop()
        own.stop()

    # Exactly once: one email of each kind, one analysis each, one export file.
    assert subjects(sink) == sorted(
        [
            f"Your Agora order {order.number}: shipped",
            f"[Agora forums] {note.get_kind_display()}: {topic.title}",
            "Your Agora data is ready to download",
            f"Your Agora order {sentinel.number} is confirmed",
        ]
    )
    signals = Event.objects.filter(kind=Event.Kind.TEXT_SIGNAL)
    assert signals.filter(attributes__source="review", attributes__object_id=review.pk).count() == 1
    assert (
        signals.filter(attributes__source="forum_post", attributes__object_id=post.pk).count() == 1
    )
    job = ExportJob.objects.get(pk=job.pk)
    assert job.rows == 1 and f"customers-{job.pk}" in job.file.name  # (in the worker's MEDIA_ROOT)
    assert DataExport.objects.get(pk=export.pk).status == DataExport.Status.READY
    assert demographics(shopper) == {"interests": ["tea", "chess"]}
