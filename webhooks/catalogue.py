"""The store's webhook events. Features that land later (segments, coupons, privacy) emit the
events declared here; new features register their own (see registry.py)."""

from .registry import register

ORDER = {
    "order_id": "integer",
    "order_number": "string",
    "customer_id": {"type": ["integer", "null"]},
    "status": "string",
    "total": "string",
    "currency": "string",
}
ORDER_EXAMPLE = {
    "order_id": 812,
    "order_number": "AG251201-9F3A1C2B",
    "customer_id": 42,
    "status": "paid",
    "total": "54.90",
    "currency": "EUR",
}

register(
    "order.placed",
    "An order was placed (lines: sku, quantity, unit price).",
    data={
        **ORDER,
        "created_at": "string",
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "string"},
                },
            },
        },
    },
    example={
        **ORDER_EXAMPLE,
        "created_at": "2025-12-01T10:00:00Z",
        "lines": [{"sku": "SKU-7", "quantity": 2, "unit_price": "25.00"}],
    },
)
register("order.paid", "An order's payment was captured.", data=ORDER, example=ORDER_EXAMPLE)
register(
    "order.status_changed",
    "An order moved along its lifecycle (previous_status → status).",
    data={**ORDER, "previous_status": "string"},
    example={**ORDER_EXAMPLE, "status": "shipped", "previous_status": "paid"},
)
register(
    "order.refunded",
    "An order was refunded.",
    data=ORDER,
    example={**ORDER_EXAMPLE, "status": "refunded"},
)
CONSENT = {
    "customer_id": "integer",
    "category": "string",
    "source": "string",
    "policy_version": "string",
    "at": "string",
}
CONSENT_EXAMPLE = {
    "customer_id": 42,
    "category": "interests",
    "source": "privacy_page",
    "policy_version": "2025-06",
    "at": "2025-12-01T10:00:00Z",
}
register(
    "consent.granted",
    "A customer granted a consent category.",
    data=CONSENT,
    example={**CONSENT_EXAMPLE, "source": "permission_screen"},
)
register(
    "consent.revoked",
    "A customer revoked a consent category.",
    data=CONSENT,
    example=CONSENT_EXAMPLE,
)
register(
    "customer.created",
    "A customer account was created.",
    data={"customer_id": "integer", "created_at": "string"},
    example={"customer_id": 42, "created_at": "2025-12-01T10:00:00Z"},
)
register(
    "customer.erased",
    "A customer's personal data was erased (emitted by the privacy app).",
    data={"customer_id": "integer", "erased_at": "string"},
    example={"customer_id": 42, "erased_at": "2025-12-01T10:00:00Z"},
)
register(
    "review.published",
    "A product review became visible (created approved, or approved by a moderator).",
    data={
        "review_id": "integer",
        "product_id": "integer",
        "product_slug": "string",
        "rating": "integer",
        "published_at": "string",
    },
    example={
        "review_id": 5,
        "product_id": 7,
        "product_slug": "linen-shirt",
        "rating": 4,
        "published_at": "2025-12-01T10:00:00Z",
    },
)
SEGMENT = {
    "segment_id": "integer",
    "segment_slug": "string",
    "customer_id": "integer",
    "at": "string",
}
SEGMENT_EXAMPLE = {
    "segment_id": 3,
    "segment_slug": "vip",
    "customer_id": 42,
    "at": "2025-12-01T10:00:00Z",
}
register(
    "segment.entered",
    "A customer entered a segment (emitted by segments).",
    data=SEGMENT,
    example=SEGMENT_EXAMPLE,
)
register(
    "segment.left",
    "A customer left a segment (emitted by segments).",
    data=SEGMENT,
    example=SEGMENT_EXAMPLE,
)
COUPON = {"coupon_id": "integer", "customer_id": {"type": ["integer", "null"]}, "at": "string"}
COUPON_EXAMPLE = {"coupon_id": 9, "customer_id": 42, "at": "2025-12-01T10:00:00Z"}
register(
    "coupon.issued",
    "A coupon was issued (emitted by loyalty).",
    data=COUPON,
    example=COUPON_EXAMPLE,
)
register(
    "coupon.redeemed",
    "A coupon was redeemed on an order (emitted by loyalty).",
    data={**COUPON, "order_number": "string"},
    example={**COUPON_EXAMPLE, "order_number": "AG251201-9F3A1C2B"},
)
