import sys

from django.core.management.base import BaseCommand

from inventory.selectors import verify_ledger


class Command(BaseCommand):
    help = "Check every stock level against its ledger (sums, balances, hash chain). Exit 1 on drift."

    def handle(self, *args, **options):
        drifts = verify_ledger()
        for drift in drifts:
            self.stderr.write(f"DRIFT {drift.describe()}")
        self.stdout.write(f"LEDGER drifts={len(drifts)}")
        if drifts:
            sys.exit(1)
