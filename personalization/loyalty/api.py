"""Loyalty over the API: ``/api/v1/me/rewards/`` (tier, progress, coupons: "My rewards"),
``/api/v1/me/coupons/`` and, for staff, ``/api/v1/staff/coupons/`` (list, and issue one by
hand through ``services.coupon_issue_staff``, the admin form's rules). Reads go through
``selectors.rewards_for`` and ``coupons_for``, as the pages do."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Shopper, Staff

from . import rules, selectors, services
from .models import BenefitType, Coupon


class TierSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    min_spend = serializers.DecimalField(max_digits=10, decimal_places=2)
    min_orders = serializers.IntegerField()
    benefits = serializers.CharField()


class MyCouponSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="coupon.pk")
    code = serializers.CharField(source="coupon.code")
    description = serializers.CharField(help_text="What it gives, in words.")
    reason = serializers.CharField(source="coupon.reason", help_text="Why you have it.")
    state = serializers.ChoiceField(
        choices=["usable", "used", "expired", "withdrawn", "not yet valid"]
    )
    valid_from = serializers.DateTimeField(source="coupon.valid_from")
    valid_until = serializers.DateTimeField(source="coupon.valid_until", allow_null=True)


class ProgressSerializer(serializers.Serializer):
    spend_12m = serializers.DecimalField(max_digits=12, decimal_places=2)
    orders_12m = serializers.IntegerField()


class NextTierSerializer(serializers.Serializer):
    tier = TierSerializer()
    spend_needed = serializers.DecimalField(max_digits=12, decimal_places=2)
    orders_needed = serializers.IntegerField()
    by = serializers.DateField(help_text="Reach it before this day and nothing drops out.")


class RewardsSerializer(serializers.Serializer):
    tier = TierSerializer(allow_null=True)
    progress = ProgressSerializer()
    next = NextTierSerializer(allow_null=True)
    tiers = TierSerializer(many=True)
    coupons = MyCouponSerializer(many=True)


class MyRewardsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=RewardsSerializer)
    def get(self, request):
        """The caller's tier, their progress over the last 12 months, the next tier and what
        it needs, and their coupons (usable first)."""
        rewards = selectors.rewards_for(request.user)
        status = rewards.status
        body = {
            "tier": rewards.tier,
            "progress": {
                "spend_12m": status.spend_12m if status else 0,
                "orders_12m": status.orders_12m if status else 0,
            },
            "next": rewards.next,
            "tiers": rewards.tiers,
            "coupons": rewards.coupons,
        }
        return Response(RewardsSerializer(body).data)


class MyCouponsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=MyCouponSerializer(many=True))
    def get(self, request):
        """The caller's coupons (the 100 newest), usable first, each with why."""
        return Response(
            MyCouponSerializer(selectors.rewards_for(request.user).coupons, many=True).data
        )


class CouponSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "kind",
            "owner",
            "benefit_type",
            "benefit_value",
            "description",
            "state",
            "reason",
            "trigger",
            "valid_from",
            "valid_until",
            "max_uses",
            "uses",
            "batch",
            "revoked_at",
            "created_at",
        ]

    def get_description(self, coupon) -> str:
        return rules.describe_coupon(coupon)

    def get_state(self, coupon) -> str:
        return selectors._state(coupon, self.context.setdefault("now", timezone.now()))


class CouponFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Coupon
        fields = ["kind", "trigger", "batch"]


class CouponIssueSerializer(serializers.Serializer):
    """The admin's coupon form (documentation of the body; the form itself validates)."""

    reason = serializers.CharField(max_length=255, help_text="Why; the shopper reads it.")
    kind = serializers.ChoiceField(
        choices=Coupon.Kind.choices, help_text="single (one shopper's code) or shared (public)."
    )
    owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="The shopper's id; required for single."
    )
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="Empty: one is generated."
    )
    benefit_type = serializers.ChoiceField(choices=BenefitType.choices)
    benefit_value = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Percent, euros, or 0 for free shipping."
    )
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    max_uses = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    max_uses_per_shopper = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    combinable = serializers.BooleanField(required=False)
    min_subtotal = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True
    )
    categories = serializers.ListField(child=serializers.IntegerField(), required=False)
    products = serializers.ListField(child=serializers.IntegerField(), required=False)
    first_order = serializers.BooleanField(required=False)
    min_tier = serializers.IntegerField(required=False, allow_null=True, help_text="A tier id.")


class StaffCouponList(generics.ListAPIView):
    """Every coupon, newest first; filter by owner, kind, trigger, batch."""

    permission_classes = [Staff]
    staff_permissions = {"GET": ["loyalty.view_coupon"], "POST": ["loyalty.add_coupon"]}
    serializer_class = CouponSerializer
    parser_classes = [JSONParser]
    filterset_class = CouponFilter
    queryset = Coupon.objects.all()
    ordering = ("-created_at", "-pk")

    @extend_schema(
        request=CouponIssueSerializer,
        responses={201: CouponSerializer},
        examples=[
            OpenApiExample(
                "Sorry for the delay",
                value={
                    "reason": "Sorry your parcel was late",
                    "kind": "single",
                    "owner": 42,
                    "benefit_type": "percentage",
                    "benefit_value": "10.00",
                    "valid_from": "2030-01-01T00:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        """Issue a coupon by hand, to one shopper (``kind`` single, ``owner``) or as a public
        code (``kind`` shared), with the admin's rules: a 400 problem names each bad field and
        nothing is saved. The shopper sees it in "My rewards" with ``reason``."""
        if not isinstance(request.data, dict):
            raise ValidationError(["Send a JSON object with the coupon's fields."])
        # JSON types first (a list where a date goes ...); then the admin form's rules.
        CouponIssueSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            coupon = services.coupon_issue_staff(data=dict(request.data), issued_by=request.user)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("me/rewards/", MyRewardsView.as_view(), name="api-me-rewards"),
    path("me/coupons/", MyCouponsView.as_view(), name="api-me-coupons"),
    path("staff/coupons/", StaffCouponList.as_view(), name="api-staff-coupons"),
]
