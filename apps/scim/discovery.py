"""What the service provider says about itself (RFC 7644 section 4, RFC 7643 sections 5-7)."""

from .protocol import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE_USER,
    LIST_RESPONSE,
    MAX_PAGE,
    RESOURCE_TYPE,
    SCHEMA,
    SERVICE_PROVIDER_CONFIG,
    not_found,
)
from .representations import BASE_PATH


def _attribute(name: str, *, kind: str = "string", required: bool = False, **extra) -> dict:
    return {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": required,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        **extra,
    }


_USER_SCHEMA = {
    "id": CORE_USER,
    "name": "User",
    "description": "A person of the organization. userName is their email; other attributes are kept as sent.",
    "attributes": [
        _attribute("userName", required=True, uniqueness="server"),
        _attribute("externalId", caseExact=True),
        _attribute("active", kind="boolean"),
        _attribute("displayName"),
        _attribute(
            "name",
            kind="complex",
            subAttributes=[_attribute("givenName"), _attribute("familyName"), _attribute("formatted")],
        ),
        _attribute("emails", kind="complex", multiValued=True, subAttributes=[_attribute("value"), _attribute("type")]),
        _attribute(
            "groups",
            kind="complex",
            multiValued=True,
            mutability="readOnly",
            subAttributes=[_attribute("value"), _attribute("display")],
        ),
    ],
}
_GROUP_SCHEMA = {
    "id": CORE_GROUP,
    "name": "Group",
    "description": "A provider's group; mapped by its displayName to a department or a role by the org admin.",
    "attributes": [
        _attribute("displayName", required=True, uniqueness="server"),
        _attribute("externalId", caseExact=True),
        _attribute("members", kind="complex", multiValued=True, subAttributes=[_attribute("value")]),
    ],
}
_ENTERPRISE_SCHEMA = {
    "id": ENTERPRISE_USER,
    "name": "EnterpriseUser",
    "description": "Kept as sent; department membership comes from mapped groups, not from this attribute.",
    "attributes": [_attribute("employeeNumber"), _attribute("department"), _attribute("costCenter")],
}
_SCHEMAS = [_USER_SCHEMA, _GROUP_SCHEMA, _ENTERPRISE_SCHEMA]

_RESOURCE_TYPES = [
    {
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "schema": CORE_USER,
        "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": False}],
    },
    {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": CORE_GROUP},
]

_SERVICE_PROVIDER_CONFIG = {
    "schemas": [SERVICE_PROVIDER_CONFIG],
    "documentationUri": "https://github.com/ledgerx/ledgerx/blob/main/docs/operations.md#scim-provisioning",
    "patch": {"supported": True},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": MAX_PAGE},
    "changePassword": {"supported": False},
    "sort": {"supported": False},
    "etag": {"supported": False},
    "authenticationSchemes": [
        {
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A per-organization token issued by an org admin (manage.py scim_token issue).",
            "primary": True,
        }
    ],
}


def _with_meta(resource: dict, kind: str, schema: str, base_url: str) -> dict:
    return {
        "schemas": [schema],
        **resource,
        "meta": {"resourceType": kind, "location": f"{base_url}{BASE_PATH}/{kind}s/{resource['id']}"},
    }


def answer(document: str, resource_id: str | None, *, base_url: str) -> dict:
    if document == "ServiceProviderConfig":
        return {
            **_SERVICE_PROVIDER_CONFIG,
            "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}{BASE_PATH}/{document}"},
        }
    if document == "ResourceTypes":
        kind, schema, items = "ResourceType", RESOURCE_TYPE, _RESOURCE_TYPES
    else:
        kind, schema, items = "Schema", SCHEMA, _SCHEMAS
    resources = [_with_meta(item, kind, schema, base_url) for item in items]
    if resource_id is None:
        return {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    for resource in resources:
        if resource["id"] == resource_id:
            return resource
    raise not_found(f"No {kind} {resource_id!r}.")
