"""The API root and the account page where shoppers manage their personal access tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.exceptions import ShopError

from . import selectors, services
from .models import Scope
from .permissions import Anyone


class ApiRoot(APIView):
    permission_classes = [Anyone]

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot",
            {
                "version": serializers.CharField(),
                "schema": serializers.CharField(),
                "docs": serializers.CharField(),
                "guide": serializers.CharField(),
            },
        )
    )
    def get(self, request):
        """Where to start: the schema, its interactive docs and the guide."""
        return Response(
            {
                "version": "v1",
                "schema": request.build_absolute_uri(reverse("api-schema")),
                "docs": request.build_absolute_uri(reverse("api-docs")),
                "guide": "docs/api.md",
            }
        )


@login_required
def tokens_page(request):
    """Account → API tokens: list, create (the token is shown once), revoke."""
    created = None
    error = ""
    status = 200
    if request.method == "POST":
        try:
            created = services.token_create(
                user=request.user,
                name=request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
            )
        except ShopError as exc:
            error, status = str(exc), exc.status_code
    scopes = [(s.value, s.label) for s in Scope if s != Scope.STAFF or request.user.is_staff]
    return render(
        request,
        "api/tokens.html",
        {
            "tokens": selectors.tokens_of(request.user)[:50],
            "created": created,
            "error": error,
            "scopes": scopes,
            "posted_name": request.POST.get("name", "") if error else "",
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = services.token_revoke(user=request.user, token_id=token_id)
    except ShopError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("api:tokens")
