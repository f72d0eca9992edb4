"""``manage.py check_consistency``: verify the store's invariants; exit 1 on any violation.

Runs read-only against whatever database the settings point at (DATABASE_URL). With
``--save-baseline FILE`` it only records stock and the last order (before a load); with
``--baseline FILE`` it also checks stock conservation and the orders placed since.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from shop.consistency import Baseline, check_all


class Command(BaseCommand):
    help = "Check the store's invariants (stock, payments, events, coupons, counters, outbox)."

    def add_arguments(self, parser):
        parser.add_argument("--baseline", help="a file written by --save-baseline before a load")
        parser.add_argument("--save-baseline", metavar="FILE", help="record stock and exit")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args, baseline=None, save_baseline=None, json=False, **options):
        if save_baseline:
            Baseline.take().save(save_baseline)
            self.stdout.write(f"baseline written to {save_baseline}")
            return
        try:
            base = Baseline.load(baseline) if baseline else None
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(f"cannot read the baseline {baseline}: {exc}") from exc
        results = check_all(base)
        if json:
            self.stdout.write(_dumps([{**r.__dict__, "ok": r.ok} for r in results]))
        else:
            for r in results:
                mark = "ok  " if r.ok else "FAIL"
                line = f"{mark} {r.name}: {r.violations} violation(s) in {r.checked} checked"
                self.stdout.write(line)
                for example in r.examples:
                    self.stdout.write(f"       {example}")
        failed = [r.name for r in results if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} invariant(s) broken: {', '.join(failed)}")


def _dumps(value) -> str:
    return json.dumps(value, default=str)
