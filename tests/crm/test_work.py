"""Staff work on the 360 page: notes with author and time, follow-up tasks and "my open
tasks", tags; the most influential customers list, sortable."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from crm import selectors, services
from crm.models import CustomerTag, Note, Tag, Task
from tests.crm.helpers import staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_support_adds_a_note_a_task_and_a_tag_from_the_360_page(client):
    helper = staff("Support")
    customer = UserFactory()
    Tag.objects.create(name="VIP", slug="vip")
    client.force_login(helper)
    page = reverse("admin:crm_customer_change", args=[customer.pk])
    r = client.post(
        reverse("admin:crm_customer_note", args=[customer.pk]), {"body": "Asked about sizes"}
    )
    assert r.status_code == 302 and r["Location"].startswith(page)
    r = client.post(
        reverse("admin:crm_customer_task", args=[customer.pk]),
        {"title": "Send the size guide", "due_on": "2030-01-02", "assignee": str(helper.pk)},
    )
    assert r.status_code == 302
    r = client.post(reverse("admin:crm_customer_tag", args=[customer.pk]), {"name": "vip"})
    assert r.status_code == 302
    note = Note.objects.get(customer=customer)
    assert (note.author, note.body) == (helper, "Asked about sizes")
    task = Task.objects.get(customer=customer)
    assert (task.assignee, task.due_on, task.created_by) == (helper, date(2030, 1, 2), helper)
    assert CustomerTag.objects.filter(user=customer, tag__slug="vip", added_by=helper).exists()
    html = client.get(page).content.decode()
    assert "Asked about sizes" in html and helper.email in html and "Send the size guide" in html


def test_bad_work_input_is_a_message_and_nothing_is_saved(client):
    helper = staff("Support")
    customer = UserFactory()
    client.force_login(helper)
    for url, data, message in [
        ("admin:crm_customer_note", {"body": "   "}, "A note needs some text."),
        ("admin:crm_customer_task", {"title": "x", "due_on": "tomorrow"}, "Give the task a due"),
        ("admin:crm_customer_task", {"title": "", "due_on": "2030-01-01"}, "A task needs a title"),
        (
            "admin:crm_customer_task",
            {"title": "x", "due_on": "2030-01-01", "assignee": "abc"},
            "Choose a staff member",
        ),
        ("admin:crm_customer_tag", {"name": "brand-new"}, "Choose an existing tag."),
    ]:
        r = client.post(reverse(url, args=[customer.pk]), data, follow=True)
        assert r.status_code == 200
        assert message in r.content.decode(), message
    assert not Note.objects.exists() and not Task.objects.exists()
    assert not Tag.objects.exists()
    assert client.get(reverse("admin:crm_customer_note", args=[customer.pk])).status_code == 404


def test_marketing_cannot_write_notes(client):
    client.force_login(staff("Marketing"))
    customer = UserFactory()
    r = client.post(reverse("admin:crm_customer_note", args=[customer.pk]), {"body": "x"})
    assert r.status_code == 403
    assert not Note.objects.exists()


def test_my_open_tasks(client):
    me, other = staff("Support"), staff("Support")
    customer = UserFactory()
    mine = services.task_add(
        customer=customer, created_by=me, title="Mine open", due_on=date.today(), assignee=me
    )
    done = services.task_add(
        customer=customer, created_by=me, title="Mine done", due_on=date.today(), assignee=me
    )
    services.task_add(
        customer=customer,
        created_by=me,
        title="Theirs",
        due_on=date.today() - timedelta(days=1),
        assignee=other,
    )
    assert services.task_complete(task_id=done.pk) is True
    assert services.task_complete(task_id=done.pk) is False  # idempotent
    assert list(selectors.open_tasks(assignee=me)) == [mine]
    client.force_login(me)
    html = client.get(reverse("admin:crm_task_changelist"), {"mine": "1", "open": "1"})
    text = html.content.decode()
    assert "Mine open" in text and "Mine done" not in text and "Theirs" not in text


def test_tasks_go_to_staff_only():
    from crm.exceptions import CrmError

    with pytest.raises(CrmError):
        services.task_add(
            customer=UserFactory(),
            created_by=None,
            title="x",
            due_on=date.today(),
            assignee=UserFactory(),
        )


def test_most_influential_customers_sortable(client, rich):
    helper = staff("Marketing")
    star = rich(helper=staff())
    client.force_login(helper)
    url = reverse("admin:crm_influential")
    html = client.get(url).content.decode()
    assert star.get_full_name() in html  # Marketing sees names, not the 360 link
    assert reverse("admin:crm_customer_change", args=[star.pk]) not in html
    row = selectors.influence_table().get(pk=star.pk)
    assert (row.inf_visits, row.inf_signups, row.inf_orders) == (1, 1, 1)
    assert row.inf_total == 1 + 5 + 10
    for key in ["orders", "-orders", "revenue", "helpful", "nonsense"]:
        assert client.get(url, {"o": key}).status_code == 200
    assert 'aria-sort="descending"' in client.get(url, {"o": "orders"}).content.decode()
