"""Personal data held by Django's own apps and allauth (apps Agora does not own)."""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from . import registry
from .registry import Anonymize, Custom, Delete, Keep

FORMER_MEMBER = "Former member"


def _anonymize_account(queryset, *, field, user, options) -> int:
    """The account row stays as an empty shell, so what the shopper chose to keep (reviews,
    posts) reads "Former member" and consent proof keeps its key; nothing in it identifies them."""
    count = 0
    for account in queryset:
        account.username = f"former-member-{account.pk}"
        account.email = ""
        account.first_name = FORMER_MEMBER
        account.last_name = ""
        account.is_active = False
        account.is_staff = False
        account.is_superuser = False
        account.set_unusable_password()  # also ends every signed-in session (auth hash changes)
        account.save()
        account.groups.clear()
        account.user_permissions.clear()
        count += 1
    return count


registry.register(
    get_user_model(),
    kind="account",
    description="Your account: the name and email address you sign in with, and when you "
    "joined. We need it to run your account.",
    owner="pk",
    fields={
        "id": "Your account number.",
        "username": "Your user name (made from your email address or social account).",
        "email": "Your email address.",
        "first_name": "Your first name.",
        "last_name": "Your last name.",
        "date_joined": "When you created the account (UTC, ISO 8601).",
        "last_login": "When you last signed in (UTC, ISO 8601).",
    },
    erase=Custom(fn=_anonymize_account, label="emptied: the account keeps no name or email"),
    order=1000,
)


def _admin_history_rows(user):
    from django.contrib.admin.models import LogEntry

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(user)), object_id=str(user.pk)
    )


registry.register(
    "admin.LogEntry",
    kind="admin_history",
    description="Changes staff made to your account in the store's administration.",
    owner=None,
    rows=_admin_history_rows,
    fields={
        "action_time": "When the change was made (UTC, ISO 8601).",
        "action_flag": "1 added, 2 changed, 3 deleted.",
        "change_message": "What was changed (field names).",
    },
    erase=Anonymize({"object_repr": FORMER_MEMBER, "change_message": ""}),
    references={"user": Keep("the staff member who acted; shoppers do not act in the admin")},
)

registry.register(
    "account.EmailAddress",
    kind="email_addresses",
    description="The email addresses on your account and whether you confirmed them.",
    fields={
        "email": "The address.",
        "verified": "Whether you confirmed it by clicking the link we sent.",
        "primary": "Whether it is the address we write to.",
    },
    erase=Delete(),
)

registry.register(
    "socialaccount.SocialAccount",
    kind="social_accounts",
    description="The social accounts you signed in with, and the identity they confirmed "
    "(never their access tokens, which are deleted with the account).",
    fields={
        "provider": "The social network.",
        "uid": "Your account id at that network.",
        "date_joined": "When you connected it (UTC, ISO 8601).",
        "last_login": "When you last signed in with it (UTC, ISO 8601).",
        "extra_data": "The identity claims the network sent (name, email, picture address).",
    },
    erase=Delete(),  # cascades to SocialToken
)


# --- the privacy app's own rows ---------------------------------------------------------------


def _erase_exports(queryset, *, field, user, options) -> int:
    from .exporting import export_file_delete

    count = 0
    for export in queryset:
        export_file_delete(export)
        count += 1
    queryset.delete()
    return count


registry.register(
    "privacy.DataExport",
    kind="data_exports",
    description="The copies of your data you downloaded (or staff prepared for you).",
    fields={
        "status": "pending, ready, failed or expired.",
        "created_at": "When it was asked for (UTC, ISO 8601).",
        "expires_at": "Until when the download link works.",
        "downloaded_at": "When it was downloaded.",
    },
    erase=Custom(fn=_erase_exports, label="deleted, with their files"),
    references={"requested_by": Keep("the staff member's own record")},
)

registry.register(
    "privacy.ErasureRequest",
    kind="erasure_requests",
    description="Requests to delete your account.",
    fields={
        "status": "scheduled, running, done, cancelled or failed.",
        "requested_at": "When (UTC, ISO 8601).",
        "scheduled_for": "When the deletion runs.",
        "keep_content": "Whether your reviews and posts stay as 'Former member'.",
    },
    # The request is the proof the erasure was done; the account it points at is emptied.
    erase=Keep("proof that the erasure was carried out; it names no one"),
    references={"requested_by": Keep("the staff member's own record")},
)

registry.register(
    "privacy.AuditEntry",
    kind="privacy_audit",
    description="Who exported or erased your data, when and why.",
    owner="subject",
    fields={
        "action": "What was done.",
        "by_staff": "Whether a staff member did it.",
        "reason": "The staff member's reason.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Keep("the audit log must show the erasure; it points at the emptied account only"),
    references={"actor": Keep("the audit log of what staff did")},
)


def _sign_in_attempt_rows(model):
    """django-axes keeps admin sign-in attempts by the username typed (the account's username
    or email), with the address and browser they came from."""

    def rows(user):
        names = {n for n in (user.get_username(), user.email) if n}
        return model.objects.filter(username__in=names)

    return rows


def _register_axes() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model, kind, description in [
        (AccessAttempt, "admin_sign_in_attempts", "Failed sign-ins to the administration."),
        (AccessLog, "admin_sign_ins", "Sign-ins to the administration."),
        (AccessFailureLog, "admin_sign_in_failures", "Each failed sign-in to the administration."),
    ]:
        registry.register(
            f"axes.{model.__name__}",
            kind=kind,
            description=description + " Kept to lock out password guessing.",
            owner=None,
            rows=_sign_in_attempt_rows(model),
            fields={"username": "The name typed.", "ip_address": "The address it came from."},
            erase=Delete(),
        )


_register_axes()
