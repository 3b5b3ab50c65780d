import json

import pytest
from rest_framework.test import APIClient

from apps.scim import services as scim_services

SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """A SCIM client holding one organization's bearer token, sending what Okta and Entra ID send."""

    def __init__(self, key: str, token) -> None:
        self.key, self.token = key, token
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    def get(self, path: str, params: dict | None = None):
        return self.client.get(f"/scim/v2/{path}", params or {}, HTTP_ACCEPT=SCIM)

    def _send(self, method: str, path: str, body) -> object:
        send = getattr(self.client, method)
        return send(f"/scim/v2/{path}", json.dumps(body), content_type=SCIM, HTTP_ACCEPT=SCIM)

    def post(self, path: str, body):
        return self._send("post", path, body)

    def put(self, path: str, body):
        return self._send("put", path, body)

    def patch(self, path: str, operations: list[dict]):
        return self._send("patch", path, {"schemas": [PATCH_OP], "Operations": operations})

    def delete(self, path: str):
        return self.client.delete(f"/scim/v2/{path}")


def scim_for(tenant, name: str = "okta") -> Scim:
    key, token = scim_services.scim_token_issue(organization=tenant.organization, name=name, actor=tenant.admin)
    return Scim(key, token)


@pytest.fixture
def scim(tenant) -> Scim:
    return scim_for(tenant)


def scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return body


def okta_user(email: str, *, given: str = "Ada", family: str = "Lovelace", active: bool = True) -> dict:
    """The body Okta's SCIM 2.0 client POSTs (Okta's SCIM provisioning guide)."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": f"00u{abs(hash(email)) % 10**12:012d}",
        "groups": [],
        "active": active,
    }


def entra_user(email: str, *, external_id: str = "ada") -> dict:
    """The body Entra ID's provisioning service POSTs (Microsoft's SCIM reference, its default mapping)."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": external_id,
        "userName": email,
        "active": True,
        "displayName": "Ada Lovelace",
        "emails": [{"primary": True, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
        "title": "Analyst",
        ENTERPRISE: {"department": "Engineering", "employeeNumber": "42"},
    }
