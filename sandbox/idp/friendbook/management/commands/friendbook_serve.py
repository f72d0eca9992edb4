from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed the demo members (idempotent) and serve Friendbook (no autoreload)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8001")
        parser.add_argument("--users-json")
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris")

    def handle(self, *args, addrport, users_json=None, redirect_uris=None, **options):
        call_command("migrate", interactive=False, verbosity=0)
        seed_args = ["--users-json", users_json] if users_json else []
        for uri in redirect_uris or []:
            seed_args += ["--redirect-uri", uri]
        call_command("friendbook_seed", *seed_args)
        call_command("runserver", addrport, use_reloader=False, use_threading=True)
