"""Analyse a shopper's own text, store the result with it and record a ``text_signal`` event."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.aftercommit import forget_keys
from personalization import events

from . import analysis
from .models import AnalysedText
from .selectors import RULES_KEY, active_rules


def rules_changed() -> None:
    """Forget the cached intent rules now and after the current transaction commits."""
    forget_keys([RULES_KEY])


def text_analyse(*, text: str) -> dict:
    own = analysis.own_text(text)
    score = analysis.sentiment(own)
    return {
        "sentiment": score,
        "label": analysis.sentiment_label(score),
        "intents": [m.as_dict() for m in analysis.match_intents(own, active_rules())],
    }


def text_signal_store(
    *, model: type[AnalysedText], pk: int, source: str, author_field: str = "author"
) -> bool:
    """Analyse the current version of one text once. Returns False when there was nothing to do
    (gone, or this version already analysed: a retried task changes nothing twice)."""
    with transaction.atomic():
        obj = model.objects.select_for_update().filter(pk=pk).first()
        if obj is None or obj.analysed_version >= obj.text_version:
            return False
        author = getattr(obj, author_field)
        result = text_analyse(text=obj.signal_text())
        obj.sentiment = result["sentiment"]
        obj.intents = result["intents"]
        obj.analysed_version = obj.text_version
        obj.analysed_at = timezone.now()
        obj.save(update_fields=["sentiment", "intents", "analysed_version", "analysed_at"])
        if author is not None:
            _record_signals(author=author, obj=obj, source=source, result=result)
    return True


def _record_signals(*, author, obj, source: str, result: dict) -> None:
    """One ``text_signal`` event per analysed version, in the profile build's contract
    (``personalization.events.record_text_signal``): ``sentiment`` and the first intent with its
    ``category_id``; a further intent in the same text adds an event without sentiment, so the
    shopper's average sentiment counts each text once."""
    product = getattr(obj, "product", None)
    common = {"source": source, "object_id": obj.pk, "version": obj.text_version}
    first, *others = result["intents"] or [None]
    events.record(
        events.Event.Kind.TEXT_SIGNAL,
        user=author,
        product=product,
        value=Decimal(str(result["sentiment"])),
        sentiment=result["sentiment"],
        label=result["label"],
        intents=result["intents"],
        **_intent_attributes(first),
        **common,
    )
    for match in others:
        events.record(
            events.Event.Kind.TEXT_SIGNAL,
            user=author,
            product=product,
            **_intent_attributes(match),
            **common,
        )


def _intent_attributes(match: dict | None) -> dict:
    if match is None:
        return {}
    return {"intent": match["intent"], "category_id": match["category_id"]}
