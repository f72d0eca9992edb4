"""Staff roles as groups with least privilege. The data migration creates them; ``roles_sync``
keeps them current after every ``migrate`` (apps that land later, e.g. segments or loyalty,
get their permissions into the right role without another migration).

A grant is ``(app_label, model or "*", actions)``; actions are Django's ``view``, ``add``,
``change``, ``delete`` or extra codenames. A model that no grant names is invisible to the
role: that is the default, and tests/crm/test_roles.py checks every admin page against a table
so a new admin page needs a decision.
"""

MARKETING = "Marketing"
SUPPORT = "Support"
MODERATOR = "Moderator"
ADMIN = "Admin"

ALL = ("view", "add", "change", "delete")
VIEW = ("view",)

# Marketing: segments, banners, campaigns, coupons, the dashboard; no personal notes.
# Support: customers, notes, tasks, orders, coupons by hand. Moderator: reviews, questions,
# forums. Admin: everything (and the audit log, which nobody else reads).
GRANTS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    MARKETING: [
        ("segments", "segment", ALL),
        ("segments", "segmentmembership", VIEW),  # memberships are written by refreshes only
        ("segments", "segmentmembershiphistory", VIEW),
        ("banners", "*", ALL),
        ("loyalty", "tier", ALL),
        ("loyalty", "earnrule", ALL),
        ("loyalty", "coupon", ALL),
        ("loyalty", "loyaltystatus", VIEW),  # computed by tasks
        ("loyalty", "couponredemption", VIEW),
        ("outreach", "campaign", ALL),
        ("outreach", "suppression", ALL),
        ("outreach", "budgetsettings", ("view", "change")),
        ("outreach", "subscriber", ("view", "change")),
        ("outreach", "marketingconsentrecord", VIEW),  # written by the shopper's own choices
        ("outreach", "outreachmessage", VIEW),  # the outbox is written by the planner
        ("outreach", "outreachdecision", VIEW),
        ("recommendations", "*", ALL),
        ("crm", "customer", ("view_dashboard",)),
        ("crm", "tag", ALL),
        ("shop", "product", VIEW),
        ("shop", "category", VIEW),
        ("shop", "brand", VIEW),
        ("engagement", "storesocialaccount", ALL),
        ("textsignals", "intentrule", ALL),
    ],
    SUPPORT: [
        (
            "crm",
            "customer",
            (
                "view",
                "change",
                "merge_customer",
                "view_dashboard",
                "import_customer",
                "export_customer",
            ),
        ),
        ("crm", "note", ("view", "add")),
        ("crm", "task", ALL),
        ("crm", "tag", VIEW),
        ("crm", "customertag", ("view", "add", "delete")),
        ("crm", "exportjob", VIEW),
        ("shop", "order", ("view", "change")),
        ("shop", "cart", VIEW),
        ("shop", "product", VIEW),
        ("social", "consentrecord", VIEW),
        ("social", "socialprofile", VIEW),
        ("account", "emailaddress", ("view", "change")),
        ("personalization", "event", VIEW),
        ("personalization", "preferenceprofile", ("view", "change")),
        ("loyalty", "coupon", ("view", "add")),
        ("loyalty", "loyaltystatus", VIEW),
        ("outreach", "outreachmessage", VIEW),  # "why did I not get the email?"
        ("outreach", "outreachdecision", VIEW),
    ],
    MODERATOR: [
        ("reviews", "*", ALL),
        ("forums", "*", ALL),
        ("shop", "product", VIEW),
    ],
}


def _codenames(model: str, actions: tuple[str, ...]) -> set[str]:
    return {a if "_" in a else f"{a}_{model}" for a in actions}


def roles_sync(*, apps=None) -> dict[str, int]:
    """Create the four groups and set exactly their permissions. Idempotent.

    ``apps`` is a migration's historical registry (or None for the live one). Returns the
    number of permissions of each group.
    """
    if apps is None:
        from django.contrib.auth.models import Group, Permission
    else:
        Group = apps.get_model("auth", "Group")  # noqa: N806
        Permission = apps.get_model("auth", "Permission")  # noqa: N806
    result = {}
    for name in (MARKETING, SUPPORT, MODERATOR, ADMIN):
        group, _ = Group.objects.get_or_create(name=name)
        if name == ADMIN:
            perms = list(Permission.objects.values_list("pk", flat=True))
        else:
            perms = set()
            for app_label, model, actions in GRANTS[name]:
                qs = Permission.objects.filter(content_type__app_label=app_label)
                if model == "*":
                    wanted = {a for a in actions if "_" in a}
                    perms |= set(
                        qs.filter(codename__regex=rf"^({'|'.join(actions)})_").values_list(
                            "pk", flat=True
                        )
                    )
                    if wanted:
                        perms |= set(qs.filter(codename__in=wanted).values_list("pk", flat=True))
                else:
                    perms |= set(
                        qs.filter(
                            content_type__model=model, codename__in=_codenames(model, actions)
                        ).values_list("pk", flat=True)
                    )
            perms = sorted(perms)
        group.permissions.set(perms)
        result[name] = len(perms)
    return result


def sync_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: runs once, after the last app (permissions exist by then)."""
    from django.apps import apps as live

    with_models = [c for c in live.get_app_configs() if c.models_module is not None]
    if not with_models or sender.name != with_models[-1].name:
        return
    roles_sync()
