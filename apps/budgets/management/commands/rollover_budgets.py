from django.core.management.base import BaseCommand

from apps.budgets.services import budget_rollover


class Command(BaseCommand):
    help = "Open this month's and next month's budget periods for every department."

    def handle(self, *args, **options) -> None:
        opened = budget_rollover()
        self.stdout.write(f"Opened {opened} budget periods.")
