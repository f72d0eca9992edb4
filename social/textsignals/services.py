"""Analyse a shopper's own text, store the result with it and record a ``text_signal`` event."""

from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from personalization import events

from . import analysis
from .models import AnalysedText
from .selectors import RULES_KEY, active_rules


def rules_changed() -> None:
    cache.delete(RULES_KEY)


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
            events.record(
                events.Event.Kind.TEXT_SIGNAL,
                user=author,
                product=getattr(obj, "product", None),
                value=Decimal(str(result["sentiment"])),
                source=source,
                object_id=obj.pk,
                version=obj.text_version,
                sentiment=result["sentiment"],
                label=result["label"],
                intents=result["intents"],
            )
    return True
