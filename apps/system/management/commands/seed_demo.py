from django.core.management.base import BaseCommand

from apps.system.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = (
        "Create the TechCorp and Globex demo of fixtures/ and replay their last three months of spend "
        "through the services; running it twice changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--without-history",
            action="store_true",
            help="Only the organizations, departments, users and approval policies; no spend.",
        )

    def handle(self, *args, **options) -> None:
        created = seed_demo(history=not options["without_history"])
        if options["verbosity"] == 0:
            return
        for item in created:
            self.stdout.write(f"created {item}")
        self.stdout.write(f"Demo data ready ({len(created)} created). Password for every demo user: {DEMO_PASSWORD}")
