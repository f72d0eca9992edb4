"""schema.org Product JSON-LD for product pages (shared links render as rich results)."""

import json

from django.conf import settings


def product_jsonld(product, *, images, variants, reviews=()) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "sku": variants[0].sku if variants else str(product.pk),
        "description": product.description,
        "brand": {"@type": "Brand", "name": product.brand.name},
        "category": product.category.name,
        "color": product.colour or None,
        "image": [settings.SITE_URL + image.image.url for image in images],
        "url": settings.SITE_URL + product.get_absolute_url(),
        "offers": {
            "@type": "Offer",
            "price": str(product.price),
            "priceCurrency": settings.AGORA_CURRENCY,
            "availability": "https://schema.org/InStock"
            if any(v.stock > 0 for v in variants)
            else "https://schema.org/OutOfStock",
            "url": settings.SITE_URL + product.get_absolute_url(),
        },
    }
    if product.rating_count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": str(product.rating_avg),
            "reviewCount": product.rating_count,
            "bestRating": "5",
            "worstRating": "1",
        }
    if reviews:
        data["review"] = list(reviews)
    data = {key: value for key, value in data.items() if value is not None}
    # Escape "<" so the JSON can never close the <script> element it sits in.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
