"""The curl examples of docs/api.md, run as written against a live server."""

import json
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from api.services import token_create
from tests.factories import ProductFactory, UserFactory

EXAMPLE = re.compile(r'<!-- run: expect ("(?:[^"\\]|\\.)*") -->\s*```sh\n(.*?)```', re.S)


def examples() -> list[tuple[str, str]]:
    found = [
        (json.loads(expect), script)
        for expect, script in EXAMPLE.findall(Path("docs/api.md").read_text())
    ]
    assert len(found) >= 5, "docs/api.md lost its runnable examples"
    return found


@pytest.mark.django_db(transaction=True)
def test_every_curl_example_in_the_docs_works_against_a_live_server(live_server, high_rates):
    for _ in range(3):
        ProductFactory(price=Decimal("20.00"))
    product = ProductFactory(price=Decimal("35.00"), stock=5)
    user = UserFactory(username="docs-reader")
    token = token_create(user=user, name="docs", scopes=["read", "write"]).raw
    env = {
        **os.environ,
        "AGORA": live_server.url,
        "TOKEN": token,
        "VARIANT": str(product.variants.get().pk),
    }
    for expected, script in examples():
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (script, result.stderr)
        assert expected in result.stdout, (script, result.stdout[:500])
