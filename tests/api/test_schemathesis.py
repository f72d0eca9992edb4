"""Property-based tests over the whole OpenAPI schema (schemathesis): for every operation,
generated requests (signed in as a staff token with every scope, on a small store) never get a
5xx, and every response conforms to the schema: documented status, content type and body.

Examples per operation are limited (SCHEMATHESIS_MAX_EXAMPLES, default 5) so the run stays
under about two minutes on two cores; raise it locally to dig deeper.
"""

import json
import os
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from api.services import token_create
from tests.api.conftest import place_order
from tests.factories import ProductFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def store(db, high_rates, staff_member):
    """A small store with one of everything, and a staff token with every scope."""
    from social.forums.models import ForumCategory
    from social.forums.services import topic_create
    from social.reviews.services import review_create

    shopper = UserFactory(username="st-shopper")
    product = ProductFactory(name="Tea pot", price=Decimal("20.00"))
    place_order(shopper, product)
    review_create(user=shopper, product=product, rating=5, title="Great", body="Makes fine tea.")
    topic_create(
        user=shopper,
        category=ForumCategory.objects.create(name="General", slug="general"),
        title="Tea talk",
        body="What do you brew?",
    )
    staff_member.is_superuser = True
    staff_member.save()
    # Requests go through the WSGI handler, which closes the database connection when a
    # request ends; inside the test's transaction it must stay open (Django's test client
    # does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield token_create(user=staff_member, name="schemathesis", scopes=["read", "write", "staff"])
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _load_schema():
    """The schema the store serves at /api/schema/, generated in-process (no request needed),
    with the store's WSGI application as the target of the generated requests."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from config.wsgi import application

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = application
    return loaded


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, store):
    case.call_and_validate(headers={"Authorization": f"Bearer {store.raw}"}, checks=CHECKS)


# --- stateful: the OpenAPI links (create → read / update / delete) ---------------------------

STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
LINKED = r"^/api/v1/staff/(segments|notes|tasks|banners|customers/\{customer_pk\}/(notes|tasks))"


def test_create_read_update_delete_chains_follow_the_links(store):
    """schemathesis follows the schema's links: a segment, note, task or banner created by a
    POST is read, changed and deleted through the id in its 201 body, and after a delete it is
    gone (schemathesis's stateful checks, e.g. use-after-free, run on every step)."""
    from django.contrib.auth import get_user_model

    linked = schema.include(path_regex=LINKED)
    links = [
        name
        for item in linked.raw_schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for name in op.get("responses", {}).get("201", {}).get("links", {})
    ]
    assert {"ReadNotes", "UpdateSegments", "DeleteTasks"} <= set(links), links
    customer = get_user_model().objects.get(username="st-shopper")
    headers = {"Authorization": f"Bearer {store.raw}"}
    calls: list[tuple[str, str, int]] = []

    class Machine(linked.as_state_machine()):
        def before_call(self, case):
            if "customer_pk" in (case.path_parameters or {}):
                case.path_parameters["customer_pk"] = customer.pk  # the store's one shopper

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls.append((case.method, case.operation.path, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Machine.run(
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The chains really ran: something was created and then read or changed through its id.
    created = {path for method, path, status in calls if method == "POST" and status == 201}
    followed = {
        path
        for method, path, status in calls
        if method in {"GET", "PATCH", "DELETE"} and "{id}" in path and status < 300
    }
    assert created and followed, calls
