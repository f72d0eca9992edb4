"""The floor: a bare Django project with one view returning a fixed string.

``make bench`` serves it with the same gunicorn settings as Agora, in the same run, so every
store page is reported as a fraction of what Django itself can do on this machine. No
database, no middleware, no templates: ``gunicorn bench.floor:application``.
"""

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-floor-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
    )

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def hello(request):
    return HttpResponse(b"Hello from the floor", content_type="text/plain")


urlpatterns = [path("", hello)]
application = get_wsgi_application()
