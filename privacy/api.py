"""Privacy over the API, with the rules of the pages:

- ``/api/v1/me/data-exports/``: ask for a copy of my data (POST; a second request while one is
  pending returns that one) and follow its status (GET). The download link is the page's
  signed link (``download_url``), valid for the staff-set hours.
- ``/api/v1/me/erasure/``: my account deletion. Requesting it (POST) needs the site's session
  (a token cannot delete an account) and the deletion page's confirmation: the password, or
  for a social-only account a fresh social sign-in started from the deletion page. During the
  grace period it can be cancelled (DELETE).
"""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import TokenNotAllowed
from api.permissions import Shopper, token_of

from . import selectors, services
from .exceptions import ConfirmationFailed
from .models import DataExport, ErasureRequest


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="The signed download link once ready (null before, and after it expires)."
    )

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "created_at",
            "finished_at",
            "expires_at",
            "size_bytes",
            "download_url",
        ]

    def get_download_url(self, export) -> str | None:
        if export.status != DataExport.Status.READY:
            return None
        request = self.context.get("request")
        url = services.export_download_url(export)
        return request.build_absolute_uri(url) if request else url


class MyExportsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=ExportSerializer(many=True))
    def get(self, request):
        """The caller's recent exports (five newest) and their status."""
        exports = selectors.recent_exports(user=request.user)
        return Response(ExportSerializer(exports, many=True, context={"request": request}).data)

    @extend_schema(request=None, responses={202: ExportSerializer})
    def post(self, request):
        """Ask for a copy of everything the store holds about the caller. It is built in the
        background (usually within a minute) and announced by email; poll the list."""
        export = services.export_request(user=request.user)
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ErasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErasureRequest
        fields = ["id", "status", "requested_at", "scheduled_for", "keep_content"]


class ErasureRequestSerializer(serializers.Serializer):
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=4096,
        help_text="Your password (accounts that have one).",
    )
    keep_content = serializers.BooleanField(
        default=False,
        help_text="Keep your reviews and posts, signed “Former member” (else removed).",
    )
    confirm = serializers.BooleanField(
        help_text="true: I understand that my account and data will be deleted for good."
    )


class ErasureStateSerializer(serializers.Serializer):
    erasure = ErasureSerializer(allow_null=True)
    grace_days = serializers.IntegerField()


class MyErasureView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=ErasureStateSerializer)
    def get(self, request):
        """The caller's open account deletion, if any, and the grace period."""
        erasure = selectors.open_erasure(user=request.user)
        return Response(
            ErasureStateSerializer({"erasure": erasure, "grace_days": selectors.grace_days()}).data
        )

    @extend_schema(
        request=ErasureRequestSerializer,
        responses={202: ErasureSerializer},
        examples=[
            OpenApiExample("Delete", value={"password": "…", "confirm": True}, request_only=True)
        ],
    )
    def post(self, request):
        """Delete the caller's account after the grace period (at once when it is 0). Session
        only; confirm with the password, or (social-only accounts) sign in again with the social
        account from the deletion page first. 403 ``confirmation_failed`` otherwise."""
        if token_of(request) is not None:
            raise TokenNotAllowed(
                "Delete your account from the site (signed in), not with a token."
            )
        data = ErasureRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["confirm"]:
            raise serializers.ValidationError(
                {"confirm": ["Confirm that your account and data will be deleted for good."]}
            )
        user = request.user
        if not selectors.identity_confirmed(
            request._request, user=user, password=data.validated_data.get("password")
        ):
            raise ConfirmationFailed(
                "That is not your password."
                if user.has_usable_password()
                else "Confirm it is you with your social account on the deletion page first."
            )
        erasure = services.erasure_request(
            user=user, keep_content=data.validated_data["keep_content"]
        )
        from django.core.cache import cache

        cache.delete(selectors.reauth_key(user))
        return Response(ErasureSerializer(erasure).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=ErasureSerializer)
    def delete(self, request):
        """Cancel the caller's scheduled deletion during the grace period (409 when there is
        none to cancel)."""
        erasure = services.erasure_cancel(user=request.user)
        return Response(ErasureSerializer(erasure).data)


urlpatterns = [
    path("me/data-exports/", MyExportsView.as_view(), name="api-me-data-exports"),
    path("me/erasure/", MyErasureView.as_view(), name="api-me-erasure"),
]
