"""Signals read from shoppers' own text: sentiment and intent rules maintained by staff.

``AnalysedText`` is the abstract part that reviews and forum posts carry: the result of the
last analysis is stored with the text it came from, and ``text_version`` / ``analysed_version``
make the analysis task idempotent (a retried or duplicated task changes nothing twice).
"""

from django.db import models


class IntentRule(models.Model):
    """A phrase joined to a shop category: "broke my" + Cameras → replacement intent."""

    class Intent(models.TextChoices):
        REPLACEMENT = "replacement", "Replacement (broke, lost, worn out)"
        PURCHASE = "purchase", "Purchase (looking for, want to buy)"
        UPGRADE = "upgrade", "Upgrade (need a better)"
        GIFT = "gift", "Gift (present for)"

    phrase = models.CharField(
        max_length=80, help_text='Words that start the signal, e.g. "broke my" or "looking for".'
    )
    intent = models.CharField(max_length=20, choices=Intent.choices)
    category = models.ForeignKey(
        "shop.Category", related_name="intent_rules", on_delete=models.CASCADE
    )
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated words that name the category after the phrase "
        '(e.g. "camera, lens, dslr"). Empty: the category name, singular or plural.',
    )
    window = models.PositiveSmallIntegerField(
        default=4, help_text="How many words after the phrase may name the category."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phrase", "category__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["phrase", "category", "intent"], name="one_intent_rule_per_phrase"
            )
        ]

    def __str__(self):
        return f'"{self.phrase}" + {self.category} → {self.get_intent_display()}'


class AnalysedText(models.Model):
    """Fields for text that is analysed: bump ``text_version`` whenever the text changes."""

    sentiment = models.FloatField(
        null=True, blank=True, help_text="VADER compound score, -1 (negative) to 1 (positive)."
    )
    intents = models.JSONField(default=list, blank=True)
    text_version = models.PositiveIntegerField(default=1)
    analysed_version = models.PositiveIntegerField(default=0)
    analysed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def sentiment_label(self) -> str:
        from .analysis import sentiment_label

        return sentiment_label(self.sentiment)
