from django.core.management.base import BaseCommand

from friendbook.demo import DEMO_USERS, load_users, seed


class Command(BaseCommand):
    help = "Create or update Friendbook's demo members and the store's OpenID Connect client."

    def add_arguments(self, parser):
        parser.add_argument("--users-json", help="extra members, a JSON list like DEMO_USERS")
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris")

    def handle(self, *args, users_json=None, redirect_uris=None, **options):
        users = DEMO_USERS + (load_users(users_json) if users_json else [])
        seed(users=users, redirect_uris=redirect_uris, stdout=self.stdout)
