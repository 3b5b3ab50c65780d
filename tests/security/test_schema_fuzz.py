"""Schemathesis over every operation of the published OpenAPI schema, in-process against the WSGI app,
as an org admin of a tenant made here: never a 5xx, always what the schema says, and no 2xx for a body or
query parameter the schema does not allow (request bodies are `additionalProperties: false`, see
ledgerx/schema.py; schemathesis does not count an unknown query parameter as invalid, `unknown_query_refused`
below does).

The WSGI app runs in the test's thread, on its database connection: the data it sees needs no commit
across threads, but settlement does (spend_settled), hence the transactional database.
Each operation runs with generated ids and with the caller's own ids, with valid and invalid input.
The loop over operations is written out here because schemathesis' pytest plugin
(`schemathesis.pytest.from_fixture`) does not run under pytest 9 (it sets `Function._nodeid`).
Bounded: EXAMPLES_PER_OPERATION per operation and mode, about a minute in all.
"""

import json
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import Failure, FailureGroup

from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from tests.conftest import Tenant
from tests.security import tenant_objects
from tests.security.routes import api_routes
from tests.spends import spend_submit

EXAMPLES_PER_OPERATION = 6


@pytest.fixture
def fuzz_tenant(transactional_db):
    return Tenant("Fuzz Corp")


@pytest.fixture
def loaded_schema(transactional_db):
    return schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


def _fresh_token(user) -> str:
    # A token per call: the fuzzer may well revoke the one it was given. Made directly, not through
    # the sign-in service, whose throttle would soon answer 429.
    return tenancy_services.token_create(user=user)


def _operations(loaded):
    return [result.ok() for result in loaded.get_all_operations()]


def _own_ids(tenant) -> dict[str, str]:
    return tenant_objects.own_path_ids(tenant, str(spend_submit(tenant.employee, "5.00").id))


def unknown_query_refused(ctx, response, case) -> None:
    """A query parameter the operation does not declare must not be taken (and ignored) with a 2xx."""
    unknown = set(case.query or {}) - {parameter.name for parameter in case.operation.query}
    if unknown and 200 <= response.status_code < 300:
        raise AssertionError(f"{case.operation.label} answered {response.status_code} to unknown {sorted(unknown)}")


def _fuzz(loaded, user, path_parameters: dict[str, str] | None, mode: GenerationMode) -> list[str]:
    """Run every operation's examples; return the failures, each with the request that caused it."""
    failures: list[str] = []
    for operation in _operations(loaded):
        parameters = None
        if path_parameters is not None:
            names = {parameter.name for parameter in operation.path_parameters}
            if not names:
                continue
            parameters = {name: path_parameters[name] for name in names}
        # The credentials header is ours to set, not the fuzzer's to break.
        headers = [header for header in operation.headers if "x-original-security-type" not in header.definition]
        mutable = [*operation.query, *headers, *operation.body]
        if path_parameters is None:
            mutable += list(operation.path_parameters)
        if mode == GenerationMode.NEGATIVE and not mutable:
            continue  # nothing here can be made invalid (GET /me takes no input)
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=parameters)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=strategy)
        def run(case):
            # Every check schemathesis has but "schema-valid data is accepted": the API refuses some
            # schema-valid requests for reasons no schema states (a duplicate department name,
            # another currency than the organization's), with a 400 in the api.md shape.
            case.call_and_validate(
                headers={"Authorization": f"Token {_fresh_token(user)}"},
                excluded_checks=[positive_data_acceptance],
                additional_checks=[unknown_query_refused],
            )

        try:
            run()
        except (Failure, FailureGroup, AssertionError) as error:  # collected: one run reports every operation
            failures.append(f"{operation.label} ({mode}): {error}")
    return failures


def test_the_schema_covers_every_api_route(loaded_schema):
    documented = {(operation.method.upper(), operation.path) for operation in _operations(loaded_schema)}
    routed = {
        (method, "/api/v1/" + re.sub(r"<(uuid|int|str):", "{", route).replace(">", "}"))
        for method, route in api_routes()
    }
    assert documented == routed


@pytest.mark.django_db
def test_request_bodies_are_closed_objects(client):
    document = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    components = document["components"]["schemas"]
    bodies = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                component = components[media["schema"]["$ref"].rsplit("/", 1)[1]]
                assert component.get("additionalProperties") is False, (method, path)
                bodies += 1
    assert bodies >= 15


@pytest.mark.slow
def test_the_api_keeps_to_its_schema(loaded_schema, fuzz_tenant):
    user = fuzz_tenant.user(Role.ORG_ADMIN)
    own_ids = _own_ids(fuzz_tenant)
    failures = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        failures += _fuzz(loaded_schema, user, None, mode)
        failures += _fuzz(loaded_schema, user, own_ids, mode)
    assert not failures, "\n\n".join(failures)


@pytest.mark.django_db
def test_the_schema_is_openapi_3_and_public(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    error = document["components"]["schemas"]["ErrorOutput"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetailOutput")
    submit = document["paths"]["/api/v1/transactions"]["post"]
    # No 409: a retry racing its original waits for it and replays it (apps/ledger/idempotency.py).
    assert set(submit["responses"]) == {"202", "400", "401", "403", "404", "422", "429", "503"}
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in submit["parameters"])


@pytest.mark.django_db
def test_the_docs_page_loads_its_scripts_from_our_own_static_files(client):
    from django.contrib.staticfiles import finders

    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts
    for script in scripts:
        assert script.startswith("/static/"), script
        assert finders.find(script.removeprefix("/static/")), script
