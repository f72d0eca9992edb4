"""Outreach over the API.

- ``/api/v1/staff/campaigns/``: staff (the admin's campaign permissions) list and read
  campaigns, create a draft and change one (``services.campaign_save``, the admin form's
  validation), schedule a draft and cancel one (``services.campaign_schedule`` / ``_cancel``).
- ``/api/v1/me/email-preferences/``: the preference centre (marketing opt-in, topics,
  frequency, pause, time zone) through ``services.preferences_update``, as the page.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import invalid_input
from api.permissions import Shopper, Staff

from . import selectors, services, topics
from .exceptions import OutreachError
from .models import Campaign, MarketingConsentRecord, OutreachMessage, Subscriber


class CampaignSerializer(serializers.ModelSerializer):
    segments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    messages_planned = serializers.IntegerField(read_only=True)
    messages_sent = serializers.IntegerField(read_only=True)
    messages_dropped = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "segments",
            "topic",
            "subject_template",
            "html_template",
            "text_template",
            "picks_count",
            "coupon_ref",
            "send_at",
            "ends_at",
            "held_policy",
            "planned_at",
            "created_at",
            "messages_planned",
            "messages_sent",
            "messages_dropped",
        ]


def campaigns():
    """Campaigns with their outbox counts per status (one query per page)."""
    status = OutreachMessage.Status
    return Campaign.objects.prefetch_related("segments").annotate(
        messages_planned=Count("messages", filter=Q(messages__status=status.PLANNED)),
        messages_sent=Count("messages", filter=Q(messages__status=status.SENT)),
        messages_dropped=Count("messages", filter=Q(messages__status=status.DROPPED)),
    )


class CampaignWriteSerializer(serializers.Serializer):
    """The admin form's fields (documentation of the body; the form itself validates)."""

    name = serializers.CharField(max_length=120)
    topic = serializers.CharField(max_length=30, required=False)
    segments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Target segment ids (shoppers in any of them, if opted in).",
    )
    send_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="After ``send_at`` when both are given."
    )
    held_policy = serializers.ChoiceField(choices=Campaign.HeldPolicy.choices, required=False)
    subject_template = serializers.CharField(max_length=200)
    html_template = serializers.CharField()
    text_template = serializers.CharField()
    picks_count = serializers.IntegerField(min_value=0, max_value=8, required=False)
    coupon_ref = serializers.CharField(max_length=80, required=False, allow_blank=True)


CAMPAIGN_STAFF = {
    "GET": ["outreach.view_campaign"],
    "POST": ["outreach.add_campaign"],
    "PATCH": ["outreach.change_campaign"],
}


def _campaign_save(request, campaign_id=None):
    if not isinstance(request.data, dict):
        raise ValidationError(["Send a JSON object with the campaign's fields."])
    # JSON types first (a list where a date goes ...); then the admin form's rules.
    shape = CampaignWriteSerializer(data=request.data, partial=campaign_id is not None)
    shape.is_valid(raise_exception=True)
    try:
        campaign = services.campaign_save(
            data=dict(request.data), campaign_id=campaign_id, created_by=request.user
        )
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from None
    except Campaign.DoesNotExist:
        raise NotFound() from None
    return campaigns().get(pk=campaign.pk)


class CampaignList(generics.ListAPIView):
    """Campaigns, newest first, with their outbox counts; filter by ``status``."""

    permission_classes = [Staff]
    staff_permissions = CAMPAIGN_STAFF
    serializer_class = CampaignSerializer
    parser_classes = [JSONParser]
    filterset_fields = ["status", "topic"]
    ordering = ("-created_at", "-id")
    queryset = Campaign.objects.none()

    def get_queryset(self):
        return campaigns()

    @extend_schema(
        request=CampaignWriteSerializer,
        responses={201: CampaignSerializer},
        examples=[
            OpenApiExample(
                "Spring offers",
                value={
                    "name": "Spring offers",
                    "topic": "offers",
                    "segments": [1],
                    "subject_template": "{{ first_name }}, spring picks for you",
                    "html_template": "<p>Hello {{ first_name }}</p>",
                    "text_template": "Hello {{ first_name }}",
                    "send_at": "2030-03-01T09:00:00Z",
                    "held_policy": "defer",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        """Create a draft campaign, validated as the admin's form (a 400 problem names each
        bad field; nothing is saved). Schedule it with ``schedule/``."""
        campaign = _campaign_save(request)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetail(generics.RetrieveAPIView):
    """One campaign with its outbox counts."""

    permission_classes = [Staff]
    staff_permissions = CAMPAIGN_STAFF
    serializer_class = CampaignSerializer
    parser_classes = [JSONParser]
    queryset = Campaign.objects.none()

    def get_queryset(self):
        return campaigns()

    @extend_schema(request=CampaignWriteSerializer, responses=CampaignSerializer)
    def patch(self, request, pk: int):
        """Change a draft campaign (fields left out keep their value), validated as the
        admin's form; 409 ``campaign_not_draft`` once it is scheduled or cancelled."""
        return Response(CampaignSerializer(_campaign_save(request, pk)).data)


class CampaignSchedule(APIView):
    permission_classes = [Staff]
    staff_permissions = ["outreach.change_campaign"]

    @extend_schema(request=None, responses=CampaignSerializer)
    def post(self, request, pk: int):
        """Schedule a draft campaign (it needs a target segment and templates that render);
        planning runs in the background. 400 when it is not a draft."""
        campaign = get_object_or_404(Campaign, pk=pk)
        with invalid_input(OutreachError):
            services.campaign_schedule(campaign=campaign)
        return Response(CampaignSerializer(campaigns().get(pk=pk)).data)


class CampaignCancel(APIView):
    permission_classes = [Staff]
    staff_permissions = ["outreach.change_campaign"]

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "CampaignCancelled",
            {"campaign": CampaignSerializer(), "dropped": serializers.IntegerField()},
        ),
    )
    def post(self, request, pk: int):
        """Cancel a campaign: its messages not yet sent are dropped (each with a decision
        row saying so). Returns how many were dropped."""
        campaign = get_object_or_404(Campaign, pk=pk)
        dropped = services.campaign_cancel(campaign=campaign)
        return Response(
            {"campaign": CampaignSerializer(campaigns().get(pk=pk)).data, "dropped": dropped}
        )


class EmailTopicSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    subscribed = serializers.BooleanField()


class PreferencesSerializer(serializers.Serializer):
    opted_in = serializers.BooleanField(help_text="Marketing email at all (the opt-out).")
    frequency = serializers.ChoiceField(choices=Subscriber.Frequency.choices)
    muted_topics = serializers.ListField(
        child=serializers.CharField(max_length=30), help_text="Topics turned off."
    )
    topics = EmailTopicSerializer(many=True, read_only=True)
    paused_until = serializers.DateTimeField(allow_null=True, read_only=True)
    time_zone = serializers.CharField(allow_blank=True, max_length=64)


class PreferencesUpdateSerializer(serializers.Serializer):
    opted_in = serializers.BooleanField(required=False)
    frequency = serializers.ChoiceField(choices=Subscriber.Frequency.choices, required=False)
    muted_topics = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, max_length=50
    )
    pause_weeks = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=services.MAX_PAUSE_WEEKS,
        help_text="Pause marketing email for this many weeks from now (0 ends a pause).",
    )
    time_zone = serializers.CharField(required=False, allow_blank=True, max_length=64)


def _preferences(user) -> dict:
    subscriber = selectors.subscriber_of(user)
    muted = selectors.muted_topics(user)
    return {
        "opted_in": bool(subscriber and subscriber.marketing_opt_in),
        "frequency": subscriber.frequency if subscriber else Subscriber.Frequency.NORMAL,
        "muted_topics": sorted(muted),
        "topics": [
            {"code": code, "label": label, "subscribed": code not in muted}
            for code, label in topics.choices()
        ],
        "paused_until": subscriber.paused_until if subscriber else None,
        "time_zone": subscriber.time_zone if subscriber else "",
    }


class MyEmailPreferencesView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        """The caller's email preferences: opt-in, topics, frequency, pause, time zone."""
        return Response(PreferencesSerializer(_preferences(request.user)).data)

    @extend_schema(
        request=PreferencesUpdateSerializer,
        responses=PreferencesSerializer,
        examples=[
            OpenApiExample(
                "Fewer, no news", value={"frequency": "fewer", "muted_topics": ["news"]}
            ),
            OpenApiExample("Opt out", value={"opted_in": False}),
        ],
    )
    def patch(self, request):
        """Change some preferences (the fields left out keep their value). Opting in or out
        leaves a consent record, as on the page."""
        data = PreferencesUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = _preferences(request.user)
        values = data.validated_data
        with invalid_input(OutreachError):
            services.preferences_update(
                user=request.user,
                opted_in=values.get("opted_in", current["opted_in"]),
                muted_topics=set(values.get("muted_topics", current["muted_topics"])),
                frequency=values.get("frequency", current["frequency"]),
                pause_weeks=values.get("pause_weeks"),
                time_zone=values.get("time_zone", current["time_zone"]),
                source=MarketingConsentRecord.Source.ACCOUNT,
            )
        return Response(PreferencesSerializer(_preferences(request.user)).data)


urlpatterns = [
    path("staff/campaigns/", CampaignList.as_view(), name="api-staff-campaigns"),
    path("staff/campaigns/<int:pk>/", CampaignDetail.as_view(), name="api-staff-campaign"),
    path(
        "staff/campaigns/<int:pk>/schedule/",
        CampaignSchedule.as_view(),
        name="api-staff-campaign-schedule",
    ),
    path(
        "staff/campaigns/<int:pk>/cancel/",
        CampaignCancel.as_view(),
        name="api-staff-campaign-cancel",
    ),
    path(
        "me/email-preferences/",
        MyEmailPreferencesView.as_view(),
        name="api-me-email-preferences",
    ),
]
