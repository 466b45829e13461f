from django.core.management.base import BaseCommand

from core import hooks


class Command(BaseCommand):
    help = (
        "List every hook point (core.hooks): its name, kind, signature and what it is for, then the "
        "functions that fill it, in the order they run."
    )

    def handle(self, *args, **options):
        for point in hooks.points():
            self.stdout.write(f"{point.qualified_name}  [{point.kind}, declared by {point.app}]")
            self.stdout.write(f"    {point.signature}")
            self.stdout.write(f"    {point.doc}")
            fillers = point.fillers()
            if not fillers:
                self.stdout.write("    (not filled)")
            for number, filler in enumerate(fillers, start=1):
                options_text = "".join(f"  {name}={value}" for name, value in filler.options.items())
                self.stdout.write(f"    {number}. {filler.dotted_name}{options_text}")
