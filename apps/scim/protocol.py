"""SCIM 2.0's wire rules (RFC 7643, RFC 7644) that do not depend on our data: schema URNs, the error,
the filters we answer, and PATCH operations applied to a resource's JSON.

Why our own and not django-scim2: django-scim2 maps SCIM onto django.contrib.auth's user through
adapters and its own views, authenticates through Django's auth backends (so a per-organization bearer
token would be a user), and writes users directly with model saves. Here every write must go through
tenancy's services (audit, one writer per column, deactivation revoking tokens and sessions), every
read must be scoped to the token's organization, and groups are not Django groups but a mapping to
departments and roles. What remains of SCIM once those are ours is this small protocol module.
"""

import re
from typing import Any

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
MEDIA_TYPE = "application/scim+json"

MAX_PAGE = 200


class ScimError(Exception):
    """An answer in RFC 7644's error shape (section 3.12): status, detail and, on 400 and 409, scimType."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> dict:
        body: dict[str, Any] = {"schemas": [ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def not_found(detail: str = "Resource not found.") -> ScimError:
    return ScimError(404, detail)


# `attribute eq "value"`: the filters Okta and Entra ID send. Attribute names and the operator are
# case-insensitive (RFC 7644 3.4.2.2); the value is a JSON string.
_EQ_FILTER = re.compile(r'^\s*([A-Za-z][\w.:-]*)\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"\s*$')


def filter_parse(text: str, allowed: dict[str, str]) -> tuple[str, str]:
    """(our field name, value) of an `attr eq "value"` filter on an attribute in `allowed` (lower-cased
    SCIM name -> our name); anything else is a 400 invalidFilter."""
    match = _EQ_FILTER.match(text)
    if not match or match[1].lower() not in allowed:
        names = ", ".join(sorted(allowed.values()))
        raise ScimError(400, f"Only '<attribute> eq \"<value>\"' filters on {names} are supported.", "invalidFilter")
    value = re.sub(r"\\(.)", r"\1", match[2])
    return allowed[match[1].lower()], value


def paging(params: dict[str, str]) -> tuple[int, int]:
    """startIndex (1-based) and count. Below 1 is taken as 1 and a negative count as 0 (RFC 7644 3.4.2.4)."""
    try:
        start = int(params.get("startIndex", "1"))
        count = int(params.get("count", str(MAX_PAGE)))
    except ValueError:
        raise invalid_value("startIndex and count are integers.") from None
    return max(start, 1), min(max(count, 0), MAX_PAGE)


def list_response(resources: list[dict], *, total: int, start: int) -> dict:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def boolean(value: Any, name: str) -> bool:
    """A SCIM boolean; Entra ID sends "True" and "False" as strings in PATCH values."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(f"'{name}' must be true or false.")


def patch_operations(body: Any) -> list[dict]:
    """The Operations of a PatchOp body, each with its op lower-cased (Entra ID sends "Replace")."""
    if not isinstance(body, dict) or PATCH_OP not in (body.get("schemas") or []):
        raise invalid_value(f"A PATCH body is a {PATCH_OP} message.")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise invalid_value("A PATCH body needs a non-empty Operations list.")
    checked = []
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("add", "replace", "remove"):
            raise invalid_value("Each operation's op is add, replace or remove.")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, "An operation's path is a string.", "invalidPath")
        if str(operation["op"]).lower() != "remove" and "value" not in operation:
            raise invalid_value("An add or replace operation needs a value.")
        if path is None and str(operation["op"]).lower() == "remove":
            raise ScimError(400, "A remove operation needs a path.", "noTarget")
        checked.append({"op": str(operation["op"]).lower(), "path": path, "value": operation.get("value")})
    return checked


# attribute, optional [subAttr eq "value"] filter, optional .subAttribute
_PATH = re.compile(
    r'^([A-Za-z][\w$-]*)(?:\[\s*([A-Za-z][\w$-]*)\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"\s*\])?(?:\.([A-Za-z][\w$-]*))?$'
)


def _split_path(path: str, schemas: tuple[str, ...]) -> tuple[str | None, str]:
    """(extension schema or None for the core, the path within it)."""
    for schema in schemas:
        if path.lower().startswith(schema.lower() + ":"):
            rest = path[len(schema) + 1 :]
            return (None if schema in (CORE_USER, CORE_GROUP) else schema), rest
        if path.lower() == schema.lower():
            return schema, ""
    return None, path


def _find_key(container: dict, name: str) -> str:
    """The key of `container` matching `name` case-insensitively (SCIM attribute names are), else `name`."""
    return next((key for key in container if key.lower() == name.lower()), name)


def patch_apply(resource: dict, operations: list[dict], *, schemas: tuple[str, ...]) -> dict:
    """`resource` with the operations applied in order (RFC 7644 3.5.2); the caller then stores it as a PUT."""
    for operation in operations:
        op, path, value = operation["op"], operation["path"], operation["value"]
        if path is None:
            if not isinstance(value, dict):
                raise invalid_value("An operation without a path takes an object of attributes.")
            for name, item in value.items():
                patch_apply(resource, [{"op": op, "path": name, "value": item}], schemas=schemas)
            continue
        extension, inner = _split_path(path, schemas)
        container = resource
        if extension is not None:
            container = resource.setdefault(extension, {})
            if not inner:
                if op == "remove":
                    resource.pop(extension, None)
                elif isinstance(value, dict):
                    for name, item in value.items():
                        patch_apply(container, [{"op": op, "path": name, "value": item}], schemas=())
                else:
                    raise invalid_value(f"{extension} takes an object.")
                continue
        _apply_one(container, op, inner, value)
    return resource


def _apply_one(container: dict, op: str, path: str, value: Any) -> None:
    match = _PATH.match(path)
    if not match:
        raise ScimError(400, f"Unsupported path '{path}'.", "invalidPath")
    attribute, filter_attribute, filter_value, sub = match.groups()
    key = _find_key(container, attribute)
    if filter_attribute is None:
        if sub is None:
            _set(container, key, op, value)
        else:
            parent = container.get(key)
            if parent is None and op != "remove":
                parent = container[key] = {}
            if not isinstance(parent, dict):
                if parent is None:
                    return
                raise ScimError(400, f"'{attribute}' has no sub-attributes.", "invalidPath")
            _set(parent, _find_key(parent, sub), op, value)
        return
    filter_value = re.sub(r"\\(.)", r"\1", filter_value)
    items = container.get(key)
    if items is None:
        items = container[key] = []
    if not isinstance(items, list):
        raise ScimError(400, f"'{attribute}' is not multi-valued.", "invalidPath")

    def selected(item: Any) -> bool:
        if not isinstance(item, dict):
            return False
        found = item.get(_find_key(item, filter_attribute))
        return str(found).lower() == filter_value.lower()

    matching = [item for item in items if selected(item)]
    if op == "remove":
        if sub is None:
            container[key] = [item for item in items if not selected(item)]
        else:
            for item in matching:
                item.pop(_find_key(item, sub), None)
        return
    if not matching:
        # Entra ID replaces emails[type eq "work"].value on a user that has no work email yet.
        matching = [{filter_attribute: filter_value}]
        items.append(matching[0])
    for item in matching:
        if sub is None:
            if not isinstance(value, dict):
                raise invalid_value(f"'{path}' takes an object.")
            item.update(value)
        else:
            item[_find_key(item, sub)] = value


def _set(container: dict, key: str, op: str, value: Any) -> None:
    if op == "remove":
        container.pop(key, None)
    elif op == "add" and isinstance(container.get(key), list):
        container[key] = container[key] + (value if isinstance(value, list) else [value])
    elif op == "add" and isinstance(container.get(key), dict) and isinstance(value, dict):
        container[key] = {**container[key], **value}
    else:
        container[key] = value
