from django.core.management.base import BaseCommand

from apps.tenancy.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the TechCorp demo data of api.md; running it twice changes nothing."

    def handle(self, *args, **options) -> None:
        created = seed_demo()
        if options["verbosity"] == 0:
            return
        for item in created:
            self.stdout.write(f"created {item}")
        self.stdout.write(f"Demo data ready ({len(created)} created). Password for every demo user: {DEMO_PASSWORD}")
