"""WSGI entry point: Django's application behind the whole-page cache's hit path
(``shop.pagecache.PageCacheApplication``: a cookieless visitor's cached store page is sent
before Django's handler and middlewares run; everything else goes to Django unchanged)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from shop.pagecache import PageCacheApplication  # noqa: E402 (needs the apps loaded)

application = PageCacheApplication(application)
