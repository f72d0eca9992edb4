"""Payment gateways.

A gateway takes an amount and card details and answers approved, declined or failed. The
active one is a dotted path in ``AGORA_PAYMENT_GATEWAY``; add a real provider by writing a
class with the same ``charge``/``refund`` methods. ``TestGateway`` runs offline and behaves like
a provider's test mode: its card numbers approve, decline or fail.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import uuid4

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Card:
    """Card details on their way to the gateway. Never stored, logged or shown: ``repr`` and
    ``str`` give only the last four digits (so a traceback or a log line cannot leak them)."""

    number: str = field(repr=False)
    expiry_month: int = field(repr=False)
    expiry_year: int = field(repr=False)
    cvc: str = field(repr=False)

    def __str__(self):
        return f"card ending {self.last4}"

    def __repr__(self):
        return f"Card(ending {self.last4})"

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str = ""
    message: str = ""
    retryable: bool = False


class PaymentGateway:
    code = "base"

    def charge(
        self, *, amount: Decimal, currency: str, card: Card, description: str
    ) -> ChargeResult:
        raise NotImplementedError  # interface method: every gateway implements it

    def refund(self, *, reference: str, amount: Decimal) -> ChargeResult:
        raise NotImplementedError  # interface method: every gateway implements it


class TestGateway(PaymentGateway):
    """Offline test mode. Any other valid card number (Luhn) approves."""

    code = "test"
    DECLINED = {
        "4000000000000002": "Your card was declined.",
        "4000000000009995": "Your card has insufficient funds.",
        "4000000000000069": "Your card has expired.",
    }
    FAILS = {"4000000000000119": "The payment provider had a processing error. Please try again."}

    def charge(self, *, amount, currency, card, description):
        if card.number in self.DECLINED:
            return ChargeResult(approved=False, message=self.DECLINED[card.number])
        if card.number in self.FAILS:
            return ChargeResult(approved=False, message=self.FAILS[card.number], retryable=True)
        return ChargeResult(approved=True, reference=f"test_{uuid4().hex[:20]}")

    def refund(self, *, reference, amount):
        return ChargeResult(approved=True, reference=f"re_{reference}")


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def get_gateway() -> PaymentGateway:
    return import_string(settings.AGORA_PAYMENT_GATEWAY)()
