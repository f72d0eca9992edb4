"""Demo intent rules: idempotent."""

from shop.models import Category

from .models import IntentRule
from .services import rules_changed

RULES = [
    ("broke my", IntentRule.Intent.REPLACEMENT),
    ("lost my", IntentRule.Intent.REPLACEMENT),
    ("need a new", IntentRule.Intent.REPLACEMENT),
    ("looking for", IntentRule.Intent.PURCHASE),
    ("gift for", IntentRule.Intent.GIFT),
    ("upgrade my", IntentRule.Intent.UPGRADE),
]
KEYWORDS = {
    "Cameras": "camera, lens, dslr, mirrorless",
    "Audio": "headphones, earbuds, speaker, headset",
    "Shoes": "shoes, sneakers, boots, trainers, runners",
    "Jackets": "jacket, coat, parka",
    "Bags & Accessories": "bag, backpack, tote, wallet",
    "Tops": "shirt, sweater, hoodie, top",
}


def seed(*, stdout) -> None:
    created = 0
    for name, keywords in KEYWORDS.items():
        category = Category.objects.filter(name=name).first()
        if category is None:
            continue
        for phrase, intent in RULES:
            _, new = IntentRule.objects.get_or_create(
                phrase=phrase, category=category, intent=intent, defaults={"keywords": keywords}
            )
            created += new
    rules_changed()
    stdout.write(f"Text signals: {created} new intent rules.")
