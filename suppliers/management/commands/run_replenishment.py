from django.core.management.base import BaseCommand, CommandError

from inventory.models import Product
from suppliers.planner import run_replenishment


class Command(BaseCommand):
    help = "Plan replenishment for every active reorder policy (or some SKUs) and write draft purchase orders."

    def add_arguments(self, parser):
        parser.add_argument("--sku", action="append", default=[], help="Only these SKUs (repeatable).")
        parser.add_argument("--critical-only", action="store_true", help="Only policies marked critical.")

    def handle(self, *args, **options):
        product_ids = None
        if options["sku"]:
            found = dict(Product.objects.filter(sku__in=options["sku"]).values_list("sku", "pk"))
            missing = sorted(set(options["sku"]) - set(found))
            if missing:
                raise CommandError(f"unknown SKU(s): {', '.join(missing)}")
            product_ids = list(found.values())
        result = run_replenishment(product_ids=product_ids, critical_only=options["critical_only"])
        self.stdout.write(
            f"policies={result.policies} below_reorder_level={result.below_reorder_level} "
            f"updated_lines={result.updated_lines} without_supplier={result.without_supplier} "
            f"auto_approved={result.auto_approved}"
        )
        self.stdout.write(f"REPLENISHMENT created_pos={result.created_pos} created_lines={result.created_lines}")
