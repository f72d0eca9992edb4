"""WSGI entry point: Django's application behind the page caches' hit paths
(``shop.pagecache.PageCacheApplication``: a cookieless visitor's cached store page;
``shop.signed.SignedPageCacheApplication``: a signed-in shopper's own cached store page; both
are sent before Django's handler and middlewares run; everything else goes to Django
unchanged)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from shop.pagecache import PageCacheApplication  # noqa: E402 (needs the apps loaded)
from shop.signed import SignedPageCacheApplication  # noqa: E402

application = SignedPageCacheApplication(PageCacheApplication(application))
