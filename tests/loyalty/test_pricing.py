"""Money: exact discounts rounded once, to cents; never a negative line or order."""

from decimal import Decimal

import pytest

from shop.pricing import Discount, PricedLine, allocate_rounding, quote_build
from tests.factories import ShippingMethodFactory, UserFactory
from tests.loyalty_factories import make_coupon

pytestmark = pytest.mark.django_db


def line(price, quantity=1, *, variant_id=1, category_id=1, product_id=1):
    return PricedLine(
        variant_id=variant_id,
        product_id=product_id,
        category_id=category_id,
        parent_category_id=None,
        name=f"Item {variant_id}",
        quantity=quantity,
        unit_price=Decimal(price),
    )


def quote(lines, codes, **kwargs):
    result, _ = quote_build(lines=lines, user=UserFactory(), codes=codes, **kwargs)
    return result


def test_a_third_of_ten_cents_rounds_once_to_three_cents():
    make_coupon(code="THIRD", benefit_value=Decimal("33.33"))
    q = quote([line("0.10")], ["THIRD"])
    assert q.problems == []
    assert [d.amount for d in q.discounts] == [Decimal("0.03")]
    assert q.total == Decimal("0.07")


def test_stacked_percentages_are_rounded_once_not_per_step():
    # 10% of 0.15 = 0.015, then 10% of the remaining 0.135 = 0.0135: exact 0.0285, rounded
    # once to 0.03, and the two discount lines add up to exactly that.
    make_coupon(code="TEN", combinable=True)
    make_coupon(code="TENMORE", combinable=True)
    q = quote([line("0.15")], ["TEN", "TENMORE"])
    assert q.problems == []
    assert sum(d.exact for d in q.discounts) == Decimal("0.0285")
    assert sum(d.amount for d in q.discounts) == Decimal("0.03")
    assert q.total == Decimal("0.12")


def test_three_thirds_add_up_to_the_rounded_total():
    discounts = [
        Discount(code=c, label=c, amount=Decimal(0), exact=Decimal("1") / 3) for c in "ABC"
    ]
    rounded = allocate_rounding(discounts, cap=Decimal("10"))
    assert [d.amount for d in rounded] == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert sum(d.amount for d in rounded) == Decimal("1.00")


def test_a_fixed_amount_never_makes_the_order_negative():
    make_coupon(code="FIFTY", benefit_type="fixed", benefit_value=Decimal("50.00"))
    shipping = ShippingMethodFactory(price=Decimal("4.90"), free_over=None)
    q = quote(
        [line("12.34")], ["FIFTY"], shipping_methods=[shipping], shipping_method_id=shipping.pk
    )
    assert q.discounts[0].amount == Decimal("12.34")  # capped at the goods
    assert q.total == Decimal("4.90")  # shipping is still paid


def test_a_fixed_amount_on_some_products_only_discounts_those_lines():
    make_coupon(
        code="KIT5",
        benefit_type="fixed",
        benefit_value=Decimal("5.00"),
        conditions=[{"type": "categories", "ids": [7], "names": ["Kitchen"]}],
    )
    q = quote([line("3.00", category_id=7), line("40.00", variant_id=2, category_id=8)], ["KIT5"])
    assert q.discounts[0].amount == Decimal("3.00")
    assert q.total == Decimal("40.00")


def test_stacked_fixed_and_percentage_never_go_below_zero():
    make_coupon(code="F8", benefit_type="fixed", benefit_value=Decimal("8.00"), combinable=True)
    make_coupon(code="P99", benefit_value=Decimal("99.99"), combinable=True)
    q = quote([line("9.99")], ["F8", "P99"])
    assert [d.code for d in q.discounts] == ["F8", "P99"]
    assert sum(d.amount for d in q.discounts) <= Decimal("9.99")
    assert q.total == Decimal("0.00")
    assert all(d.amount >= 0 for d in q.discounts)


def test_free_shipping_follows_the_chosen_method():
    make_coupon(code="SHIPFREE", benefit_type="free_shipping")
    standard = ShippingMethodFactory(code="standard", price=Decimal("4.90"), free_over=None)
    express = ShippingMethodFactory(
        code="express", name="Express", price=Decimal("9.90"), free_over=None
    )
    q = quote(
        [line("20.00")],
        ["SHIPFREE"],
        shipping_methods=[standard, express],
        shipping_method_id=express.pk,
    )
    assert q.shipping_discount == Decimal("9.90")
    assert q.total == Decimal("20.00")
    assert q.total_with(standard.pk) == Decimal("20.00")


@pytest.mark.parametrize(
    "lines, fixed, expected, total",
    [
        # 33.33 % of 0.30 and of 10.00 (0.09999 + 3.333), then 5.00 spread over what is left:
        # exact 8.43299, rounded once to 8.43 = 3.43 + 5.00; shipping 4.90 off in full
        ([("0.10", 3), ("10.00", 1)], "5.00", ["3.43", "5.00", "4.90"], "1.87"),
        # 33.33 % of 0.10 (0.03333), then 0.05 of the 0.06667 left: exact 0.08333 -> 0.08
        ([("0.10", 1)], "0.05", ["0.03", "0.05", "4.90"], "0.02"),
        # a fixed amount larger than what the percentage left: capped at the goods, never below 0
        ([("0.10", 1)], "1.00", ["0.03", "0.07", "4.90"], "0.00"),
    ],
)
def test_percentage_fixed_and_free_shipping_stack_rounded_once(lines, fixed, expected, total):
    make_coupon(code="THIRD", benefit_value=Decimal("33.33"), combinable=True)
    make_coupon(code="FIXED", benefit_type="fixed", benefit_value=Decimal(fixed), combinable=True)
    make_coupon(code="SHIP", benefit_type="free_shipping", combinable=True)
    shipping = ShippingMethodFactory(price=Decimal("4.90"), free_over=None)
    q = quote(
        [line(price, quantity, variant_id=n) for n, (price, quantity) in enumerate(lines)],
        ["THIRD", "FIXED", "SHIP"],
        shipping_methods=[shipping],
        shipping_method_id=shipping.pk,
    )
    assert q.problems == []
    assert [str(d.amount) for d in q.discounts] == expected
    assert all(d.amount >= 0 for d in q.discounts)
    assert q.total == Decimal(total)
    # the lines the shopper sees add up: subtotal + shipping - discounts = total
    assert q.subtotal + q.shipping_cost - q.discount_total == q.total
    # rounded once: the goods discounts are the exact sum rounded to cents, not a sum of roundings
    goods = [d for d in q.discounts if not d.on_shipping]
    exact = sum(d.exact for d in goods)
    assert sum(d.amount for d in goods) == min(
        exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"), q.subtotal
    )
