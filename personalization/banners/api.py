"""Banners over the API.

- ``/api/v1/staff/banners/``: staff (the admin's banner permissions) list, read, create,
  change and delete banners with their target segments, categories and creatives, and upload
  a creative's image (``services.banner_variant_image_set``, multipart).
- ``/api/v1/me/banners/<placement>/``: the banner chosen for the caller at a placement, with
  why, through the same ``banner_choose`` the pages use (the decision is stored, counted for
  the frequency cap and its "why" read back from that stored row).
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import invalid_input
from api.permissions import Shopper, Staff
from personalization.events import ANON_KEY

from . import selectors, services
from .exceptions import BannerError
from .models import Banner, BannerVariant, Placement


class BannerVariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = BannerVariant
        fields = ["id", *BannerVariant.CREATIVE_FIELDS, "impressions", "clicks"]
        read_only_fields = ["id", "image", "impressions", "clicks"]


class BannerSerializer(serializers.ModelSerializer):
    segments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    categories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    segment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), write_only=True, required=False
    )
    category_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), write_only=True, required=False
    )
    variants = BannerVariantSerializer(many=True, required=False)

    class Meta:
        model = Banner
        fields = [
            "id",
            *services.BANNER_FIELDS,  # what banner_save writes
            "segments",
            "categories",
            "segment_ids",
            "category_ids",
            "variants",
            "winner_picked_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["winner_picked_at", "created_at", "updated_at"]


STAFF = {
    "GET": ["banners.view_banner"],
    "POST": ["banners.add_banner"],
    "PATCH": ["banners.change_banner"],
    "DELETE": ["banners.delete_banner"],
}


def _save(request, banner_id=None, *, partial=False):
    data = BannerSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    segment_ids = values.pop("segment_ids", None)
    category_ids = values.pop("category_ids", None)
    variants = values.pop("variants", None)
    with invalid_input(BannerError):
        return services.banner_save(
            banner_id=banner_id,
            fields=values,
            segment_ids=segment_ids,
            category_ids=category_ids,
            variants=variants,
        )


def _banners():
    return Banner.objects.prefetch_related("variants", "segments", "categories")


class BannerList(generics.ListCreateAPIView):
    """Banners with their targets and creatives (impressions and clicks per creative)."""

    permission_classes = [Staff]
    staff_permissions = STAFF
    serializer_class = BannerSerializer
    ordering = ("-priority", "pk")
    filterset_fields = ["placement", "is_active"]

    def get_queryset(self):
        return _banners()

    def post(self, request, *args, **kwargs):
        """Create a banner with at least one creative; pages show it at once."""
        banner = _save(request)
        return Response(
            BannerSerializer(_banners().get(pk=banner.pk)).data, status=status.HTTP_201_CREATED
        )


class BannerDetail(generics.RetrieveUpdateDestroyAPIView):
    """One banner."""

    permission_classes = [Staff]
    staff_permissions = STAFF
    serializer_class = BannerSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _banners()

    def patch(self, request, *args, **kwargs):
        """Change a banner; ``variants`` (when given) replaces its creatives."""
        banner = self.get_object()
        _save(request, banner.pk, partial=True)
        return Response(BannerSerializer(_banners().get(pk=banner.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        """Delete a banner with its creatives and decisions."""
        services.banner_delete(banner_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariantImageSerializer(serializers.Serializer):
    image = serializers.ImageField(
        help_text="JPEG, PNG, WebP or GIF, at most 5 MB (multipart/form-data)."
    )


class VariantImageView(APIView):
    permission_classes = [Staff]
    staff_permissions = ["banners.change_banner"]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": VariantImageSerializer}, responses=BannerVariantSerializer
    )
    def post(self, request, pk: int, variant_id: int):
        """Upload (or replace) the image of creative ``variant_id`` of banner ``pk``, checked
        as the admin checks it (a real image; JPEG, PNG, WebP or GIF; at most 5 MB): a 400
        problem pointing at ``image`` otherwise, and the creative keeps its image."""
        try:
            with invalid_input(BannerError, field="image"):
                variant = services.banner_variant_image_set(
                    banner_id=pk, variant_id=variant_id, upload=request.FILES.get("image")
                )
        except BannerVariant.DoesNotExist:
            raise NotFound("No such creative on this banner.") from None
        return Response(BannerVariantSerializer(variant, context={"request": request}).data)


class ChosenBannerSerializer(serializers.Serializer):
    decision = serializers.UUIDField(help_text="The stored decision (its why and its click).")
    banner_id = serializers.IntegerField()
    placement = serializers.CharField()
    headline = serializers.CharField()
    text = serializers.CharField()
    image_url = serializers.CharField()
    alt_text = serializers.CharField()
    cta_label = serializers.CharField()
    cta_url = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["everyone", "segment", "browsing"], help_text="Why this banner, in one word."
    )
    why = serializers.ListField(
        child=serializers.CharField(), help_text="Why, in the shopper's words (stored)."
    )


class MyBannerSerializer(serializers.Serializer):
    banner = ChosenBannerSerializer(allow_null=True, help_text="null when none is eligible.")


class MyBannerView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=MyBannerSerializer)
    def get(self, request, placement: str):
        """The banner chosen for the caller at ``placement`` (home_hero, category, product,
        cart, account) and why. Each call is a decision, as a page view is: it is stored and
        counts towards the banner's frequency cap."""
        if placement not in Placement.values:
            raise NotFound(
                f"No placement {placement[:40]!r}; one of {', '.join(Placement.values)}."
            )
        user = request.user
        visitor = request.session.get(ANON_KEY, "") if hasattr(request, "session") else ""
        choice = selectors.banner_choose(placement=placement, user=user, visitor=visitor)
        if choice is None:
            return Response({"banner": None})
        uuid = services.banner_decision_record(choice=choice, user=user, visitor=visitor)
        with invalid_input(BannerError):
            decision = services.banner_decision_for(decision_uuid=uuid, user=user, visitor=visitor)
        creative = choice.creative
        body = {
            "decision": decision.uuid,
            "banner_id": choice.banner_id,
            "placement": placement,
            "headline": creative.headline,
            "text": creative.text,
            "image_url": request.build_absolute_uri(creative.image_url)
            if creative.image_url
            else "",
            "alt_text": creative.alt_text,
            "cta_label": creative.cta_label,
            "cta_url": creative.cta_url,
            "reason": decision.reason,
            "why": list(decision.explanation or []),
        }
        return Response({"banner": ChosenBannerSerializer(body).data})


urlpatterns = [
    path("staff/banners/", BannerList.as_view(), name="api-staff-banners"),
    path("staff/banners/<int:pk>/", BannerDetail.as_view(), name="api-staff-banner"),
    path(
        "staff/banners/<int:pk>/variants/<int:variant_id>/image/",
        VariantImageView.as_view(),
        name="api-staff-banner-variant-image",
    ),
    path("me/banners/<str:placement>/", MyBannerView.as_view(), name="api-me-banner"),
]
