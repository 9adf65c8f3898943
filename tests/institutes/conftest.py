"""Fixtures for partner institutes and referrals: the ticket tests' factories, an institute factory and API
calls checked against the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session

from tests.tickets.conftest import make_ticket, make_user  # noqa: F401  (fixtures)
from tests.tickets.test_api import validate
from tickets import institutes
from tickets.db import db
from tickets.models import Institute

ROUTING_FIELDS = ("it", "machinery", "electronics", "bio", "chemistry", "energy")
SUPPORT_TYPES = ("equipment", "advice", "rnd", "information", "transfer", "staffing", "other")


@pytest.fixture
def make_institute(session: Session) -> Callable[..., Institute]:
    def make(key: str, **row: str) -> Institute:
        data = institutes.parse_row(
            {
                "key": key,
                "name_ko": row.pop("name_ko", f"{key} 연구원"),
                "kind": row.pop("kind", "research_institute"),
                "fields": row.pop("fields", "it"),
                "support_types": row.pop("support_types", "equipment;advice"),
                "contacts": row.pop("contacts", f"담당 {key}|{key}@example.org|010-4000-1234"),
                **row,
            },
            field_keys=ROUTING_FIELDS,
            support_type_keys=SUPPORT_TYPES,
        )
        institutes.save(session, data)
        found = institutes.find(session, key)
        assert found is not None
        return found

    return make


def api(client: Any, token: str | None, method: str, path: str, body: Any = None) -> Any:
    """A request to /api/v1 as the token's user, its answer checked against the OpenAPI document."""
    db.session.commit()  # the test's own changes are kept before a request that may roll back its own
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
    check_against_openapi(client, method, path, response)
    return response


def check_against_openapi(client: Any, method: str, path: str, response: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    template = re.sub(r"/tickets/[^/?]+", "/tickets/{reference}", urlsplit(path).path)
    template = re.sub(r"/referrals/\d+/", "/referrals/{referral_id}/", template)
    operation = document["paths"][template][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {template} answered {response.status_code}, which is not documented"
    schema = documented["content"]["application/json"]["schema"]
    validate(response.get_json(), schema, document, f"{method} {template}")
