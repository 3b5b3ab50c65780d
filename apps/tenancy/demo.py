"""The TechCorp demo of api.md (and a second tenant, Globex, to show isolation)."""

from django.db import transaction

from .models import Department, Organization, Role, User
from .services import department_create, organization_create

DEMO_PASSWORD = "ledgerx-demo"

DEMO_ORGANIZATIONS = [
    {
        "name": "TechCorp",
        "slug": "techcorp",
        "currency": "USD",
        "timezone": "America/New_York",
        "departments": [("Engineering", 5_000_000), ("Sales", 2_500_000)],
        # Spends of $10,000 and more wait for a finance manager, their budget held meanwhile.
        "approval_policies": [("Large spend", 1_000_000, ["finance_manager"])],
        "users": [
            ("alice@techcorp.com", Role.EMPLOYEE, "Engineering"),
            ("bob@techcorp.com", Role.EMPLOYEE, "Engineering"),
            ("carol@techcorp.com", Role.EMPLOYEE, "Sales"),
            ("finance@techcorp.com", Role.FINANCE_MANAGER, None),
            ("admin@techcorp.com", Role.ORG_ADMIN, None),
        ],
    },
    {
        "name": "Globex",
        "slug": "globex",
        "currency": "USD",
        "timezone": "Europe/London",
        "departments": [("Research", 3_000_000)],
        "users": [
            ("dave@globex.com", Role.EMPLOYEE, "Research"),
            ("finance@globex.com", Role.FINANCE_MANAGER, None),
        ],
    },
]
SYSTEM_ADMIN_EMAIL = "root@ledgerx.local"


@transaction.atomic
def seed_demo() -> list[str]:
    """Create what is missing; running it again changes nothing. Returns what it created."""
    # Approvals build on tenancy, so they are imported here rather than at the top.
    from apps.approvals.models import ApprovalPolicy
    from apps.approvals.services import approval_policy_create

    created: list[str] = []
    for spec in DEMO_ORGANIZATIONS:
        organization = Organization.objects.filter(slug=spec["slug"]).first()
        if organization is None:
            organization = organization_create(
                name=spec["name"], currency=spec["currency"], timezone_name=spec["timezone"]
            )
            created.append(f"organization {organization.name}")
        departments = {}
        for name, limit_minor in spec["departments"]:
            department = Department.objects.of(organization).filter(name=name, parent=None).first()
            if department is None:
                department = department_create(organization=organization, name=name, monthly_limit_minor=limit_minor)
                created.append(f"department {organization.name}/{name}")
            departments[name] = department
        for email, role, department_name in spec["users"]:
            if not User.objects.filter(email=email).exists():
                User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    role=role,
                    organization=organization,
                    department=departments.get(department_name),
                )
                created.append(f"user {email}")
        for name, min_amount_minor, levels in spec.get("approval_policies", []):
            if not ApprovalPolicy.objects.of(organization).filter(name=name).exists():
                approval_policy_create(
                    organization=organization, name=name, min_amount_minor=min_amount_minor, levels=levels
                )
                created.append(f"approval policy {organization.name}/{name}")
    if not User.objects.filter(email=SYSTEM_ADMIN_EMAIL).exists():
        User.objects.create_user(SYSTEM_ADMIN_EMAIL, DEMO_PASSWORD, role=Role.SYSTEM_ADMIN, is_superuser=True)
        created.append(f"user {SYSTEM_ADMIN_EMAIL}")
    return created
