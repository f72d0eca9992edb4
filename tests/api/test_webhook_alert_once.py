"""The "endpoint disabled" email goes to staff once per disabling, through a real SMTP sink on
PostgreSQL: the ``webhooks.notify_endpoint_disabled`` task claims the endpoint row
(``disabled_emailed_at``), so a retry, a second delivery or a copy running at the same moment
sends nothing more; an SMTP failure leaves it owed; disabled again after re-enabling, it is
owed again."""

import pytest
from django.utils import timezone

from tests.outreach import conftest as outreach_setup
from tests.workers import two_copies_past_a_held_send
from webhooks import services
from webhooks.models import WebhookEndpoint
from webhooks.tasks import notify_endpoint_disabled

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OPS = "ops@agora.test"
sink = outreach_setup.sink  # the real SMTP sink on loopback (a fixture)
free_port = outreach_setup.free_port


@pytest.fixture
def disabled(settings):
    settings.WEBHOOKS_ALERT_EMAILS = [OPS]
    return WebhookEndpoint.objects.create(
        url="https://hooks.example.test/in",
        events=["customer.created"],
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason="The receiver answered 410 Gone.",
    )


def _alerts(sink):
    return [m for m in sink.messages() if m["Subject"].startswith("Webhook endpoint disabled")]


def test_the_task_run_twice_emails_once_and_again_after_a_new_disabling(sink, disabled):
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 1
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 0  # retry / duplicate
    (mail,) = _alerts(sink)
    assert mail["To"] == OPS and "410 Gone" in mail.get_body(("plain",)).get_content()
    disabled.refresh_from_db()
    assert disabled.disabled_emailed_at is not None
    # Re-enabled, then disabled again: that is a new disabling, owed its own email.
    services.endpoint_enable(endpoint_id=disabled.pk)
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 0  # active: nothing
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason="Every delivery failed."
    )
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 1
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 0
    assert len(_alerts(sink)) == 2


def test_two_copies_at_the_same_moment_email_once(sink, disabled):
    second, errors = two_copies_past_a_held_send(
        sink, OPS, lambda: services.endpoint_disabled_email(endpoint_id=disabled.pk)
    )
    assert second == [0]  # the row is locked: skipped at once, not waited for
    assert len(errors) == 1 and "451" in str(errors[0])  # the held copy: try again later
    disabled.refresh_from_db()
    assert disabled.disabled_emailed_at is None and _alerts(sink) == []  # still owed
    assert services.endpoint_disabled_email(endpoint_id=disabled.pk) == 1  # the retry
    assert services.endpoint_disabled_email(endpoint_id=disabled.pk) == 0
    assert len(_alerts(sink)) == 1


def test_an_smtp_failure_leaves_the_email_owed(sink, disabled, settings):
    settings.EMAIL_PORT = free_port()  # nothing listens: connection refused
    with pytest.raises(OSError):
        services.endpoint_disabled_email(endpoint_id=disabled.pk)
    disabled.refresh_from_db()
    assert disabled.disabled_emailed_at is None
    settings.EMAIL_PORT = sink.port
    assert notify_endpoint_disabled.apply(args=(disabled.pk,)).get() == 1
    assert len(_alerts(sink)) == 1
