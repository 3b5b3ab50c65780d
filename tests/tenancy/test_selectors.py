"""What operators name on a command line: an organization by slug or id, and a `--as` finance user."""

import uuid

import pytest

from apps.tenancy.selectors import finance_user_by_email, organization_by_slug_or_id

pytestmark = pytest.mark.django_db


def test_an_organization_is_found_by_its_id_or_its_slug(tenant):
    organization = tenant.organization
    assert organization_by_slug_or_id(text=str(organization.id)) == organization
    assert organization_by_slug_or_id(text=organization.slug) == organization
    assert organization_by_slug_or_id(text=str(uuid.uuid4())) is None
    assert organization_by_slug_or_id(text="no-such-organization") is None


def test_as_names_a_finance_manager_or_org_admin_of_the_organization_only(tenant, other_tenant):
    organization_id = tenant.organization.id
    assert finance_user_by_email(organization_id=organization_id, email=tenant.finance.email.upper()) == tenant.finance
    assert finance_user_by_email(organization_id=organization_id, email=tenant.admin.email) == tenant.admin
    assert finance_user_by_email(organization_id=organization_id, email=tenant.employee.email) is None
    assert finance_user_by_email(organization_id=organization_id, email=other_tenant.finance.email) is None
