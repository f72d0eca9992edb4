"""Personal data held by outreach: the shopper's marketing-email settings and consent history,
muted topics, suppressions of their address, the outbox and the decisions about each email.

Consent records are kept only as anonymous proof (like social consents). A suppression is kept
after erasure, so the address stays blocked, but only as a keyed digest of the address
(``suppression_digest``): the plain address does not remain.
"""

from django.utils.crypto import salted_hmac

from privacy import registry
from privacy.registry import Custom, Decision, Delete, Detach

ERASED_DOMAIN = "erased.invalid"


def suppression_digest(email: str) -> str:
    """What replaces a suppressed address after erasure: a keyed digest in an address shape, so
    a later sign-up with the same address is still recognised (``sending`` checks both)."""
    normalised = (email or "").strip().lower()
    digest = salted_hmac("outreach.suppression", normalised, algorithm="sha256").hexdigest()
    return f"{digest}@{ERASED_DOMAIN}"


registry.register(
    "outreach.Subscriber",
    kind="marketing_email_settings",
    description="Whether you want our marketing emails, how often, and your time zone, so we "
    "write only when you agreed and never at night.",
    owner="user",
    fields={
        "marketing_opt_in": "Whether you agreed to marketing emails.",
        "time_zone": "Your time zone, for quiet hours.",
        "frequency": "normal or fewer.",
        "paused_until": "Until when we pause emails because you stopped opening them.",
        "updated_at": "Last changed (UTC, ISO 8601).",
    },
    erase=Delete(),
    order=60,
)


def _marketing_consents_to_proof(queryset, *, field, user, options) -> int:
    """Kept only as anonymous proof: what was granted or revoked, when, where and under which
    policy version, with no link to the shopper (see privacy.ConsentProof)."""
    from privacy.models import ConsentProof

    rows = list(queryset.values("action", "source", "policy_version", "created_at"))
    ConsentProof.objects.bulk_create(
        [
            ConsentProof(erasure_id=options.erasure_id, category="marketing_email", **row)
            for row in rows
        ]
    )
    queryset.delete()
    return len(rows)


registry.register(
    "outreach.MarketingConsentRecord",
    kind="marketing_email_consents",
    description="Every time you agreed to or refused marketing emails, where, and the privacy "
    "policy version in force. After erasure we keep only an anonymous proof of what was "
    "agreed and when.",
    owner="user",
    fields={
        "action": "granted or revoked.",
        "source": "Where: signup, account, one_click, mailto, complaint, admin or demo.",
        "policy_version": "The privacy policy version in force.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Custom(fn=_marketing_consents_to_proof, label="kept as anonymous proof"),
    order=40,
)

registry.register(
    "outreach.TopicOptOut",
    kind="marketing_topics_muted",
    description="Topics of marketing email you turned off.",
    owner="user",
    fields={"topic": "The topic.", "created_at": "When you turned it off (UTC, ISO 8601)."},
    erase=Delete(),
)


def _shopper_addresses(user) -> set[str]:
    from allauth.account.models import EmailAddress

    addresses = {(user.email or "").strip().lower()}
    addresses |= {
        e.strip().lower()
        for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    addresses.discard("")
    return addresses


def _suppression_rows(user):
    from .models import Suppression

    return Suppression.objects.filter(email__in=_shopper_addresses(user))


def _suppressions_to_digest(queryset, *, field, user, options) -> int:
    """Keep the block, drop the address: the email becomes its keyed digest and the provider's
    free-text detail (which may quote the address) is emptied."""
    from .models import Suppression

    count = 0
    for pk, email, reason in list(queryset.values_list("pk", "email", "reason")):
        digest = suppression_digest(email)
        if Suppression.objects.filter(email=digest, reason=reason).exists():
            Suppression.objects.filter(pk=pk).delete()  # already kept as a digest
        else:
            Suppression.objects.filter(pk=pk).update(email=digest, detail="")
        count += 1
    return count


registry.register(
    "outreach.Suppression",
    kind="email_suppressions",
    description="Your address, if our emails to it bounced for good or you reported one as "
    "spam: we then send it no marketing email. After erasure we keep only a fingerprint of the "
    "address, so it stays blocked.",
    owner=None,
    rows=_suppression_rows,
    fields={
        "email": "The address.",
        "reason": "hard_bounce or complaint.",
        "source": "How we learnt it: smtp, webhook or admin.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Custom(fn=_suppressions_to_digest, label="kept as a fingerprint of the address only"),
    order=40,
)

registry.register(
    "outreach.Campaign",
    kind="marketing_campaigns_created",
    description="Marketing campaigns created by staff; a shopper appears in them only as their "
    "creator (staff accounts).",
    owner=None,
    references={"created_by": Detach()},
)

registry.register(
    "outreach.OutreachMessage",
    kind="marketing_emails",
    description="The marketing emails we planned or sent you, whether you opened or clicked "
    "them, and the rule that decided last. Deleted after the retention period shown on this "
    "page.",
    owner="user",
    fields={
        "campaign__name": "The campaign.",
        "email": "The address it went to.",
        "status": "planned, sent, dropped, bounced or failed.",
        "slot_at": "When it was (or is) due to go out (UTC, ISO 8601).",
        "sent_at": "When it was sent.",
        "opened_at": "When you first opened it.",
        "clicked_at": "When you first clicked a link in it.",
        "rule": "The rule of the last decision about it.",
        "reason": "That decision's reason.",
        "created_at": "When it was planned.",
    },
    erase=Delete(),  # its decisions follow (cascade)
    order=60,
)

registry.register(
    "outreach.OutreachDecision",
    kind="marketing_email_decisions",
    description="Why each marketing email to you was sent, held back or dropped (your budget "
    "of emails, quiet hours, your choices), as decided at the time.",
    owner="user",
    fields={
        "campaign__name": "The campaign.",
        "outcome": "scheduled, deferred, dropped, sent, retry, bounced or failed.",
        "rule": "The rule that decided.",
        "reason": "The reason, in words.",
        "until": "Until when it was held, if deferred.",
        "decided_at": "When (UTC, ISO 8601).",
    },
    erase=Delete(),
    order=50,
)


def outreach_decisions(user, *, limit):
    from .models import OutreachDecision

    rows = OutreachDecision.objects.filter(user=user).select_related("campaign")
    return [
        Decision(
            source="Marketing emails",
            what=f"{row.get_outcome_display()}: the email “{row.campaign.name}”",
            why=row.reason,  # the stored reason, never recomputed
            at=row.decided_at,
        )
        for row in rows.order_by("-decided_at", "-id")[:limit]
    ]


registry.register_decisions("Marketing emails", outreach_decisions)


def _purge_outbox(*, before) -> int:
    """Messages no longer waiting to be sent, planned before ``before`` (their decisions
    follow). Planned messages are left to the sender."""
    from .models import OutreachMessage

    return (
        OutreachMessage.objects.filter(created_at__lt=before)
        .exclude(status=OutreachMessage.Status.PLANNED)
        .delete()[0]
    )


registry.register_retention(
    "outbox",
    label="Marketing emails sent to you and why",
    description="The emails we planned or sent, whether you opened them, and the decisions "
    "about them; used to keep to your email budget and to show you why.",
    purge=_purge_outbox,
    default_days=None,  # settings.PRIVACY_RETENTION_DAYS["outbox"] (365)
)
