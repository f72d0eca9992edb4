"""``make soak``: the real stack under mixed shopper load, then the consistency check (issue 16).

Serves Agora with production settings (DEBUG off) through gunicorn (``bench.pages.gunicorn``:
``--workers 2``) on PostgreSQL and Redis, with a real Celery worker (and beat) and an SMTP sink
(``config.mailsink``), and drives it from ``--clients`` processes on loopback for
``--seconds``. Each client is a signed-in shopper who loops without pause (the peak rate the
stack can serve), first through every action once (so even a short run on a slow machine covers
the whole mix), then over a weighted mix: browse the home page, the list and a category, search,
open a product, like and unlike, write a review, post in the forum, add to the cart, enter a
coupon code with a capped number of uses, and check out with an approving card (4242…) or a
declining one (4000…0002). Stock is small, so shoppers also run into "out of stock".

Afterwards it waits for the worker to send every order confirmation, then runs
``manage.py check_consistency --baseline`` (stock = initial − sold, never negative; one order
per approved payment; a purchase event per order line; coupon uses = redemptions ≤ cap; review
and forum counters = rows; one like per shopper and item; no duplicate outbox sends) and checks
the mail sink: exactly one confirmation per order. It prints the figures and exits 1 on any 5xx,
any broken invariant or any confirmation missing or sent twice.

Run: ``make soak`` (5 minutes) or ``python -m bench.soak --seconds 30 --clients 4``. The
database is SOAK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/agora_soak, created
and migrated if missing, never the development database), Redis SOAK_REDIS_URL (default
redis://127.0.0.1:6379/14). ``tests/suite/test_soak.py`` runs the same load for 30 s against the
test database.
"""

import argparse
import io
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "soak-pass-4242"
COUPON = "SOAK10"
COUPON_CAP = 15
APPROVE = "4242 4242 4242 4242"
DECLINE = "4000 0000 0000 0002"
#: action -> weight in the mix
MIX = {
    "home": 3,
    "list": 3,
    "category": 2,
    "search": 3,
    "product": 4,
    "like": 3,
    "review": 1,
    "post": 1,
    "buy": 4,
}


# --- the store the load runs on ---------------------------------------------------------------
def prepare_store(*, shoppers: int = 8, products: int = 6, stock: int = 30) -> dict:
    """Create (or find) the soak's shoppers, products, forum topic and capped coupon; returns
    what the clients need: emails, product slugs/ids, variant ids, category path, topic id.
    Idempotent: a second call reuses the rows by their fixed names."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.utils import timezone

    from personalization.loyalty.models import Coupon
    from personalization.loyalty.services import coupon_issue
    from shop.models import Brand, Category, Product, ShippingMethod, Variant
    from social.forums.models import ForumCategory, Topic

    User = get_user_model()
    old = timezone.now() - timedelta(days=90)  # past the new-account limits
    emails = []
    for n in range(shoppers):
        email = f"soak{n:02d}@agora.test"
        user, created = User.objects.get_or_create(
            username=f"soak{n:02d}", defaults={"email": email, "date_joined": old}
        )
        if created:
            # The store's own hasher (the test settings swap in a fast one the server lacks).
            hasher = PBKDF2PasswordHasher()
            user.password = hasher.encode(PASSWORD, hasher.salt())
            user.save(update_fields=["password"])
        emails.append(email)
    category, _ = Category.objects.get_or_create(slug="soak-gear", defaults={"name": "Soak gear"})
    brand, _ = Brand.objects.get_or_create(slug="soak-works", defaults={"name": "Soak Works"})
    ShippingMethod.objects.get_or_create(
        code="standard",
        defaults={"name": "Standard", "price": Decimal("4.90"), "free_over": Decimal("60.00")},
    )
    items = []
    # products 1..n for the mix (small stock: shoppers run out); product 0 is reserved for the
    # scripted purchase, with two units per shopper
    for n in range(products + 1):
        product, created = Product.objects.get_or_create(
            slug=f"soak-lamp-{n}" if n else "soak-reserved-lamp",
            defaults={
                "name": f"Soak lamp {n}" if n else "Soak reserved lamp",
                "category": category,
                "brand": brand,
                "price": Decimal("12.00") + n,
                "colour": "Green",
                "style": "Classic",
                "function": "Reading",
                "description": "A lamp that stays lit under load.",
            },
        )
        variant, _ = Variant.objects.get_or_create(
            sku=f"SOAK-{n}" if n else "SOAK-RESERVED",
            defaults={
                "product": product,
                "colour": "Green",
                "stock": stock if n else 2 * shoppers,
            },
        )
        items.append({"slug": product.slug, "id": product.pk, "variant": variant.pk})
    from shop.services import product_reindex

    product_reindex(product_ids=[item["id"] for item in items])
    forum, _ = ForumCategory.objects.get_or_create(
        slug="soak-talk", defaults={"name": "Soak talk", "description": "Load test talk."}
    )
    topic = Topic.objects.filter(category=forum, title="Soak lamps").first()
    if topic is None:
        from social.forums.services import topic_create

        author = User.objects.get(username="soak00")
        topic = topic_create(user=author, category=forum, title="Soak lamps", body="Post here.")
    if not Coupon.objects.filter(code=COUPON).exists():
        coupon_issue(
            reason="Soak test offer",
            benefit_type="percentage",
            benefit_value=Decimal("10"),
            code=COUPON,
            kind="shared",
            max_uses=COUPON_CAP,
            max_uses_per_shopper=None,
            valid_until=timezone.now() + timedelta(days=3650),
        )
    return {
        "emails": emails,
        "products": items[1:],
        "reserved": items[0],
        "category": category.get_absolute_url(),
        "topic": topic.pk,
        "term": "soak",
    }


# --- one shopper process ----------------------------------------------------------------------
class Shopper:
    """A signed-in shopper on ``base`` (requests.Session; cookies kept on plain http)."""

    TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    QUOTE = re.compile(r'<input type="hidden" name="quote" value="([^"]*)"')
    SHIPPING = re.compile(r'name="shipping_method"[^>]*value="(\d+)"')

    def __init__(self, base: str, email: str, store: dict, seed: int):
        import requests

        self.base, self.email, self.store = base, email, store
        self.random = random.Random(seed)
        self.http = requests.Session()
        self.codes: Counter = Counter()  # "action status" -> count
        self.errors: list[str] = []  # 5xx and socket errors, with the path

    def _keep_cookies(self):
        # Production cookies are Secure; the soak talks plain http on loopback.
        for cookie in self.http.cookies:
            cookie.secure = False

    def request(self, action: str, method: str, path: str, **kwargs):
        kwargs.setdefault("timeout", 120)
        kwargs.setdefault("allow_redirects", False)
        if method == "POST":
            kwargs.setdefault("headers", {})["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
            kwargs["headers"]["Referer"] = self.base + path
        try:
            response = self.http.request(method, self.base + path, **kwargs)
        except Exception as exc:  # the server did not answer: counted as an error
            self.codes[f"{action} error"] += 1
            self.errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        self._keep_cookies()
        self.codes[f"{action} {response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            self.errors.append(f"{method} {path}: {response.status_code}")
        return response

    def sign_in(self) -> bool:
        page = self.request("sign-in", "GET", "/accounts/login/")
        if page is None:
            return False
        data = {"login": self.email, "password": PASSWORD}
        found = self.TOKEN.search(page.text)
        data["csrfmiddlewaretoken"] = found.group(1) if found else ""
        done = self.request("sign-in", "POST", "/accounts/login/", data=data)
        return done is not None and done.status_code == 302

    def act(self, action: str) -> None:
        item = self.random.choice(self.store["products"])
        if action == "home":
            self.request(action, "GET", "/")
        elif action == "list":
            self.request(action, "GET", f"/products/?page={self.random.randint(1, 2)}")
        elif action == "category":
            self.request(action, "GET", self.store["category"])
        elif action == "search":
            self.request(action, "GET", f"/products/?q={self.store['term']}")
        elif action == "product":
            self.request(action, "GET", f"/p/{item['slug']}/")
        elif action == "like":
            liked = self.random.choice(["1", "0"])
            self.request(action, "POST", f"/likes/product/{item['id']}/", data={"liked": liked})
        elif action == "review":
            self.request(
                action,
                "POST",
                f"/p/{item['slug']}/review/",
                data={
                    "rating": str(self.random.randint(1, 5)),
                    "title": "Bright and steady",
                    "body": "It kept working all through the soak test.",
                },
            )
        elif action == "post":
            self.request(
                action,
                "POST",
                f"/forums/t/{self.store['topic']}/reply/",
                data={"body": f"Still lit after {self.random.randint(1, 999)} hours."},
            )
        elif action == "buy":
            self.buy(item)

    def script(self) -> None:
        """Every action once, in order, whatever the time: a short run still covers the mix
        (including one approved and one declined payment per shopper)."""
        for action in ("home", "list", "category", "search", "product", "like", "review", "post"):
            self.act(action)
        # The scripted purchase is of the reserved product (stock for every shopper's script)
        # and without a coupon (whose cap others may exhaust meanwhile), so it always succeeds.
        item = self.store["reserved"]
        self.buy(item, card=APPROVE, coupon=False)
        self.buy(item, card=DECLINE, coupon=False)

    def buy(self, item: dict, card: str = "", coupon: bool = True) -> None:
        quantity = str(self.random.randint(1, 2))
        added = self.request(
            "cart", "POST", "/cart/add/", data={"variant": item["variant"], "quantity": quantity}
        )
        if added is None or added.status_code >= 400:
            return
        if coupon and self.random.random() < 0.3:
            self.request("coupon", "POST", "/cart/code/", data={"code": COUPON})
        page = self.request("checkout", "GET", "/checkout/")
        if page is None or page.status_code != 200:
            return
        quote = self.QUOTE.search(page.text)
        shipping = self.SHIPPING.search(page.text)
        card = card or (DECLINE if self.random.random() < 0.25 else APPROVE)
        form = {
            "email": self.email,
            "full_name": "Soak Shopper",
            "line1": "1 Load Street",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
            "shipping_method": shipping.group(1) if shipping else "",
            "card_number": card,
            "card_expiry": "12/35",
            "card_cvc": "123",
            "quote": quote.group(1) if quote else "",
        }
        kind = "pay-decline" if card == DECLINE else "pay-approve"
        # A declined card keeps the cart (nothing lost): the next buy adds to it.
        self.request(kind, "POST", "/checkout/", data=form)


def _client(args) -> dict:
    base, email, store, seed, deadline = args
    shopper = Shopper(base, email, store, seed)
    signed_in = shopper.sign_in()
    if signed_in:
        shopper.script()
    actions, weights = zip(*MIX.items(), strict=True)
    while signed_in and time.time() < deadline:
        shopper.act(shopper.random.choices(actions, weights)[0])
    return {"signed_in": signed_in, "codes": dict(shopper.codes), "errors": shopper.errors}


def drive(base: str, store: dict, *, seconds: float, clients: int) -> dict:
    """Run ``clients`` shopper processes against ``base`` for ``seconds``; returns the merged
    counts: ``requests``, ``codes`` ("<action> <class>" -> n), ``errors`` (5xx and socket
    errors with their path), ``signed_in`` (how many shoppers could sign in)."""
    deadline = time.time() + seconds
    jobs = [
        (base, store["emails"][n % len(store["emails"])], store, 1000 + n, deadline)
        for n in range(clients)
    ]
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        results = pool.map(_client, jobs)
    codes: Counter = Counter()
    errors: list[str] = []
    for result in results:
        codes.update(result["codes"])
        errors += result["errors"]
    return {
        "requests": sum(codes.values()),
        "codes": dict(sorted(codes.items())),
        "errors": errors,
        "signed_in": sum(r["signed_in"] for r in results),
    }


def wait_for(predicate, *, timeout: float = 120.0, every: float = 0.3) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (generous: the machine
    is shared and loaded). Exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 (a server still starting or down: try again)
            pass
        time.sleep(every)
    return False


@contextmanager
def serve(env: dict, port: int, log: Path):
    """gunicorn (two sync workers, as ``bench.pages``; a worker timeout of 120 s and three
    minutes to start, so a slow moment of a shared machine is not a dropped connection) serving
    ``config.wsgi`` with ``env`` until the block ends; yields its base URL."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "120",
        "--access-logfile",
        "/dev/null",
        "--log-level",
        "warning",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        started = wait_for(
            lambda: (
                urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200
                or proc.poll() is not None
            ),
            timeout=180,
        )
        if not started or proc.poll() is not None:
            raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --- after the load ---------------------------------------------------------------------------
def wait_for_confirmations(*, timeout: float = 180) -> int:
    """Wait until no order confirmation is owed (the worker sent them); returns how many are
    still owed when ``timeout`` seconds have passed (0 on success)."""
    from shop.models import Order

    deadline = time.monotonic() + timeout
    while True:
        owed = Order.objects.filter(confirmation_due=True).count()
        if owed == 0 or time.monotonic() > deadline:
            return owed
        time.sleep(0.5)


def confirmation_counts(maildir: Path, numbers) -> dict:
    """How many confirmation emails the sink holds per order number in ``numbers``."""
    from config import mailsink

    wanted = set(numbers)
    counts = Counter()
    for message in mailsink.messages(maildir):
        found = re.search(r"order (\S+) is confirmed", str(message["Subject"]))
        if found and found.group(1) in wanted:
            counts[found.group(1)] += 1
    return {number: counts.get(number, 0) for number in wanted}


def consistency(baseline: Path, env: dict) -> tuple[bool, list[dict]]:
    """``manage.py check_consistency --baseline`` in a subprocess (as an operator runs it)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "check_consistency", "--baseline", str(baseline), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    return done.returncode == 0, json.loads(lines[-1]) if lines else []


def worker_command(queue_args=()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        *queue_args,
    ]


def summary(load: dict, *, seconds: float, owed: int, mails: dict, checks: list[dict]) -> dict:
    fivexx = sum(n for key, n in load["codes"].items() if key.endswith(" 5xx"))
    socket_errors = sum(n for key, n in load["codes"].items() if key.endswith(" error"))
    missing = [number for number, n in mails.items() if n == 0]
    twice = [number for number, n in mails.items() if n > 1]
    return {
        "requests": load["requests"],
        "rps": round(load["requests"] / seconds, 1),
        "5xx": fivexx,
        "socket_errors": socket_errors,
        "orders": len(mails),
        "confirmations_missing": len(missing),
        "confirmations_twice": len(twice),
        "confirmations_owed": owed,
        "invariants_broken": [c["name"] for c in checks if not c["ok"]],
        "invariants_checked": len(checks),
    }


def passed(result: dict) -> bool:
    return (
        result["5xx"] == 0
        and result["socket_errors"] == 0
        and result["confirmations_missing"] == 0
        and result["confirmations_twice"] == 0
        and result["confirmations_owed"] == 0
        and not result["invariants_broken"]
        and result["invariants_checked"] > 0
    )


# --- the command line -------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()

    url = os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/agora_soak")
    if not url.startswith("postgres"):
        sys.exit("The soak needs PostgreSQL: set SOAK_DATABASE_URL=postgres://...")
    from bench.__main__ import prepare_database

    prepare_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CACHE_KEY_PREFIX", "agora-soak")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.pages import free_port, production_env
    from config import mailsink

    call_command("migrate", verbosity=0, interactive=False)
    store = prepare_store()
    work = Path(tempfile.mkdtemp(prefix="agora-soak-"))
    baseline = work / "baseline.json"
    call_command("check_consistency", save_baseline=str(baseline), stdout=io.StringIO())
    from shop.models import Order

    first_order = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    mail_port, web_port = free_port(), free_port()
    sink = mailsink.start(port=mail_port, path=work / "mail")
    env = {**production_env(web_port), "EMAIL_PORT": str(mail_port), "EMAIL_HOST": "127.0.0.1"}
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    env["CELERY_TASK_DEFAULT_QUEUE"] = "agora-soak"  # nobody else's worker takes its tasks
    # Production settings hash static file names: collect them as production would.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    worker = subprocess.Popen(
        worker_command(["-B", "-s", str(work / "beat-schedule")]),
        cwd=ROOT,
        env=env,
        stdout=(work / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        with serve(env, web_port, work / "gunicorn.log") as base:
            print(f"soak: {args.clients} shoppers for {args.seconds:g} s against {base} ...")
            load = drive(base, store, seconds=args.seconds, clients=args.clients)
        owed = wait_for_confirmations()
    finally:
        worker.terminate()
        worker.wait(60)
        sink.stop()
    numbers = Order.objects.filter(pk__gt=first_order).values_list("number", flat=True)
    mails = confirmation_counts(work / "mail", numbers)
    ok, checks = consistency(baseline, env)
    result = summary(load, seconds=args.seconds, owed=owed, mails=mails, checks=checks)
    print(json.dumps({"codes": load["codes"], **result}, indent=2))
    for error in load["errors"][:20]:
        print("  error:", error)
    for check in checks:
        print(f"  {'ok  ' if check['ok'] else 'FAIL'} {check['name']} ({check['checked']} checked)")
    print(f"logs in {work}")
    if not (ok and passed(result)):
        sys.exit("soak FAILED")
    print("soak passed")


if __name__ == "__main__":
    main()
