"""Demo data of the CRM: tags, notes, follow-up tasks, a likely duplicate pair and one staff
member per role (all idempotent: a second run adds nothing)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from . import roles, services
from .models import Note, Task

ROLE_PASSWORD = "agora-staff"
ROLE_STAFF = {
    roles.MARKETING: ("marketing@agora.test", "Mia", "Marketing"),
    roles.SUPPORT: ("support@agora.test", "Sol", "Support"),
    roles.MODERATOR: ("moderator@agora.test", "Max", "Moderator"),
}
TAGS = [("VIP", "#6b3f7a"), ("Wholesale", "#3b5b92"), ("Complained", "#8a3b12")]


def seed(*, stdout) -> None:
    from allauth.account.models import EmailAddress

    user_model = get_user_model()
    roles.roles_sync()
    made_staff = 0
    for role, (email, first, last) in ROLE_STAFF.items():
        if user_model.objects.filter(email=email).exists():
            continue
        member = user_model.objects.create_user(
            username=email.split("@")[0],
            email=email,
            password=ROLE_PASSWORD,
            first_name=first,
            last_name=last,
            is_staff=True,
        )
        member.groups.add(Group.objects.get(name=role))
        EmailAddress.objects.get_or_create(
            user=member, email=email, defaults={"verified": True, "primary": True}
        )
        made_staff += 1
    support = user_model.objects.filter(email="support@agora.test").first()
    shoppers = list(
        user_model.objects.filter(email__regex=r"^shopper\d\d@agora\.test$").order_by("email")
    )
    if not shoppers:
        stdout.write("crm: no demo shoppers, nothing to add")
        return
    tags = {}
    for name, colour in TAGS:
        tag = services.tag_get_or_create(name=name)
        if tag.colour != colour:
            tag.colour = colour
            tag.save(update_fields=["colour"])
        tags[name] = tag
    for i, shopper in enumerate(shoppers[:12]):
        services.tag_add(customer=shopper, tag=tags[TAGS[i % 3][0]], added_by=support)
    notes = 0
    if not Note.objects.exists():
        texts = [
            "Called about a late parcel; courier confirmed delivery tomorrow.",
            "Prefers email over phone. Asked about the winter collection.",
            "Returned a jacket (wrong size), happy with the exchange.",
        ]
        for i, shopper in enumerate(shoppers[:6]):
            services.note_add(customer=shopper, author=support, body=texts[i % 3])
            notes += 1
    tasks = 0
    if not Task.objects.exists():
        today = timezone.now().date()
        for i, shopper in enumerate(shoppers[:5]):
            services.task_add(
                customer=shopper,
                created_by=support,
                assignee=support,
                title=[
                    "Follow up on the exchange",
                    "Send size guide",
                    "Check refund arrived",
                    "Offer a loyalty upgrade",
                    "Ask for a review",
                ][i],
                due_on=today + timedelta(days=i - 1),
            )
            tasks += 1
    original = shoppers[6] if len(shoppers) > 6 else shoppers[0]
    local, _, domain = original.email.partition("@")
    duplicate_email = f"{local}+old@{domain}"
    duplicate = user_model.objects.filter(email=duplicate_email).first()
    if duplicate is None:
        user_model.objects.create_user(
            username=f"{original.username}-old",
            email=duplicate_email,
            password=None,
            first_name=original.first_name,
            last_name=original.last_name,
        )
    stdout.write(
        f"crm: {made_staff} role staff (marketing@, support@, moderator@agora.test / "
        f"{ROLE_PASSWORD}), {len(tags)} tags, {notes} notes, {tasks} tasks, a duplicate pair "
        f"({original.email} and {duplicate_email})"
    )
