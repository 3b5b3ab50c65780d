import json

from django.core.management.base import BaseCommand

from apps.fraud.evaluation import TARGET_PRECISION, TARGET_RECALL, evaluate
from apps.fraud.models import OutlierMethod


class Command(BaseCommand):
    help = (
        "Generate a labelled synthetic spend stream, run it through the real fraud detectors and print "
        "precision and recall per rule and overall, and which fall short of their targets. Leaves nothing "
        "behind (one rolled-back transaction)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--employees", type=int, default=30)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--warmup-days", type=int, default=14)
        parser.add_argument("--method", choices=OutlierMethod.values, default=OutlierMethod.ZSCORE)
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options) -> None:
        report = evaluate(
            seed=options["seed"],
            employees=options["employees"],
            days=options["days"],
            warmup_days=options["warmup_days"],
            method=options["method"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        self.stdout.write(
            f"seed {report.seed}, outlier method {report.method}: {report.spends} spends "
            f"({report.normal_spends} normal), {report.alerts} alerts, scored in {report.seconds:.1f}s"
        )
        self.stdout.write(
            f"{'rule':36} {'positives':>9} {'flagged':>7} {'TP':>4} {'FP':>4} {'FN':>4} {'cross':>5} "
            f"{'precision':>9} {'recall':>6}  short of target (precision {TARGET_PRECISION}, recall {TARGET_RECALL})"
        )
        for result in [*report.rules, report.overall]:
            self.stdout.write(
                f"{result.rule:36} {result.positives:9d} {result.flagged:7d} {result.true_positives:4d} "
                f"{result.false_positives:4d} {result.false_negatives:4d} {result.cross:5d} "
                f"{result.precision:9.3f} {result.recall:6.3f}  {', '.join(result.short_of) or '-'}"
            )
