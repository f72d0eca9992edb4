"""Personal data held by the CRM: staff notes, follow-up tasks and tags about a shopper, the
staff audit log and staff export jobs.

``crm.Customer`` is a proxy of the user model: its rows are the account itself, registered as
``auth.User`` (kind ``account``), so it is exempted here rather than exported twice.
"""

from privacy import registry
from privacy.registry import Custom, Delete, Detach, Keep

registry.exempt(
    "crm.Customer",
    reason="a proxy of the user model (the staff view of an account); its rows are the account "
    "registered as auth.User",
)

registry.register(
    "crm.CustomerTag",
    kind="crm_tags",
    description="Labels our customer service staff put on your account to organise their work "
    "(for example 'wholesale' or 'VIP').",
    owner="user",
    fields={"tag__name": "The label.", "added_at": "When it was added (UTC, ISO 8601)."},
    erase=Delete(),
    references={"added_by": Detach()},
    order=50,
)

registry.register(
    "crm.Note",
    kind="crm_notes",
    description="Notes our customer service staff wrote about you, for example after a call "
    "or an email, so the next person helping you knows the story.",
    owner="customer",
    fields={"body": "The note.", "created_at": "When it was written (UTC, ISO 8601)."},
    erase=Delete(),
    references={"author": Detach()},
    order=50,
)

registry.register(
    "crm.Task",
    kind="crm_tasks",
    description="Follow-ups our customer service staff planned about you (call back, check an "
    "order ...).",
    owner="customer",
    fields={
        "title": "What was to be done.",
        "due_on": "By when (date).",
        "created_at": "When it was planned (UTC, ISO 8601).",
        "done_at": "When it was done, if it was.",
    },
    erase=Delete(),
    references={"assignee": Detach(), "created_by": Detach()},
    order=50,
)


def _audit_detach(queryset, *, field, user, options) -> int:
    """The audit log keeps what staff did and when, but no longer says about whom: the customer
    link is emptied, and so is the address of a merged duplicate account (``dropped_email``),
    on the shopper's own rows and on merges that dropped one of their accounts."""
    from .models import AuditEntry

    count = 0
    rows = list(queryset.values_list("pk", "detail"))
    rows += list(
        AuditEntry.objects.filter(detail__dropped_id=user.pk)
        .exclude(pk__in=[pk for pk, _ in rows])
        .values_list("pk", "detail")
    )
    own = set(queryset.values_list("pk", flat=True))
    for pk, detail in rows:
        detail = {k: v for k, v in (detail or {}).items() if k != "dropped_email"}
        values = {"detail": detail}
        if pk in own:
            values["customer"] = None
        # .update(): AuditEntry.save refuses changes (append-only) and this is not a new entry.
        AuditEntry.objects.filter(pk=pk).update(**values)
        count += 1
    return count


registry.register(
    "crm.AuditEntry",
    kind="crm_audit",
    description="When our staff looked at your customer page or merged duplicate accounts of "
    "yours. After erasure the log keeps what staff did and when, without any link to you.",
    owner="customer",
    fields={"action": "What was done.", "at": "When (UTC, ISO 8601)."},
    erase=Custom(
        fn=_audit_detach,
        label="kept without your identity: the audit log must show what staff did",
    ),
    references={"actor": Keep("the audit log of what staff did")},
    order=50,
)

registry.register(
    "crm.ExportJob",
    kind="crm_export_jobs",
    description="Exports of customer lists run by staff. They are staff's own records; a "
    "shopper only appears in them as a row of the exported list.",
    owner=None,
    references={"requested_by": Detach()},
)
