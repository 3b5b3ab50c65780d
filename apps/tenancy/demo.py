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
    if not User.objects.filter(email=SYSTEM_ADMIN_EMAIL).exists():
        User.objects.create_user(SYSTEM_ADMIN_EMAIL, DEMO_PASSWORD, role=Role.SYSTEM_ADMIN, is_superuser=True)
        created.append(f"user {SYSTEM_ADMIN_EMAIL}")
    return created
