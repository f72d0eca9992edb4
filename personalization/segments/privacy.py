"""Personal data held by segments: the customer groups a shopper is in, and when they entered
or left each one."""

from privacy import registry
from privacy.registry import Delete

registry.register(
    "segments.SegmentMembership",
    kind="segments",
    description="The customer groups you are in, used to choose banners and offers for you.",
    owner="user",
    fields={
        "segment__name": "The group.",
        "entered_at": "When you joined it (UTC, ISO 8601).",
        "rule_version": "The version of the group's rules that put you in it.",
    },
    erase=Delete(),
)

registry.register(
    "segments.SegmentMembershipHistory",
    kind="segment_history",
    description="When you entered or left each customer group, with the rules that decided it.",
    owner="user",
    fields={
        "segment__name": "The group.",
        "action": "entered or left.",
        "at": "When (UTC, ISO 8601).",
        "rule_version": "The version of the group's rules that decided it.",
    },
    erase=Delete(),
)
