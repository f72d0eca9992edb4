"""The demo catalogue: a believable store made from a few lists, deterministically."""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from .images import TYPE_KINDS

# (category, parent, image kind, product types, price range, sizes, styles, functions)
TREE = [
    ("Clothing", None, None, [], None, [], [], []),
    (
        "Tops",
        "Clothing",
        "top",
        ["T-shirt", "Linen shirt", "Merino sweater", "Hoodie", "Polo shirt", "Oxford shirt"],
        (18, 95),
        ["XS", "S", "M", "L", "XL"],
        ["Slim fit", "Relaxed", "Oversized", "Classic"],
        ["Everyday", "Office", "Lounge"],
    ),
    (
        "Jackets",
        "Clothing",
        "jacket",
        ["Rain jacket", "Down parka", "Denim jacket", "Wool coat", "Bomber jacket"],
        (60, 320),
        ["S", "M", "L", "XL"],
        ["Tailored", "Relaxed", "Cropped", "Longline"],
        ["Rain", "Winter", "City"],
    ),
    (
        "Shoes",
        None,
        "shoe",
        ["Running shoe", "Leather sneaker", "Chelsea boot", "Trail shoe", "Canvas plimsoll"],
        (45, 210),
        ["38", "39", "40", "41", "42", "43", "44", "45"],
        ["Low-top", "High-top", "Minimal", "Chunky"],
        ["Running", "Hiking", "Everyday"],
    ),
    (
        "Bags & Accessories",
        None,
        "bag",
        ["Backpack", "Tote bag", "Weekender", "Crossbody bag", "Laptop sleeve", "Belt bag"],
        (25, 240),
        [],
        ["Structured", "Slouchy", "Roll-top", "Minimal"],
        ["Travel", "Commute", "Everyday"],
    ),
    ("Electronics", None, None, [], None, [], [], []),
    (
        "Cameras",
        "Electronics",
        "camera",
        ["Mirrorless camera", "Compact camera", "Action camera", "Instant camera", "Camera strap"],
        (40, 1400),
        [],
        ["Retro", "Rugged", "Compact"],
        ["Travel", "Vlogging", "Photography"],
    ),
    (
        "Audio",
        "Electronics",
        "audio",
        ["Wireless headphones", "Earbuds", "Bluetooth speaker", "Studio headphones"],
        (29, 420),
        [],
        ["Over-ear", "In-ear", "Portable"],
        ["Music", "Calls", "Workout"],
    ),
    (
        "Home & Kitchen",
        None,
        "mug",
        [
            "Stoneware mug",
            "Pour-over kettle",
            "Chef's knife",
            "Linen tea towel",
            "Serving bowl",
            "Cast-iron pan",
        ],
        (9, 150),
        [],
        ["Scandinavian", "Rustic", "Modern"],
        ["Coffee", "Cooking", "Serving"],
    ),
    (
        "Sports & Outdoors",
        None,
        "bottle",
        ["Insulated bottle", "Yoga mat", "Trekking poles", "Camping lantern", "Dry bag"],
        (15, 160),
        [],
        ["Lightweight", "Rugged", "Compact"],
        ["Hiking", "Yoga", "Camping"],
    ),
    (
        "Beauty",
        None,
        "bottle",
        ["Face serum", "Hand cream", "Shampoo bar", "Lip balm", "Body oil"],
        (6, 65),
        [],
        ["Unscented", "Botanical", "Fresh"],
        ["Skincare", "Haircare", "Bodycare"],
    ),
    (
        "Books & Stationery",
        None,
        "book",
        ["Dotted notebook", "Fountain pen", "Weekly planner", "Sketchbook", "Field guide"],
        (7, 85),
        [],
        ["Hardcover", "Softcover", "Pocket"],
        ["Writing", "Drawing", "Planning"],
    ),
    (
        "Toys & Games",
        None,
        "ball",
        ["Wooden puzzle", "Board game", "Building blocks", "Play ball", "Card game"],
        (10, 90),
        [],
        ["Classic", "Educational", "Party"],
        ["Family", "Kids", "Strategy"],
    ),
]

BRANDS = [
    "Northwind",
    "Fjordline",
    "Kestrel",
    "Marlow & Co",
    "Solace",
    "Tidewater",
    "Ember",
    "Atlas Works",
    "Lumen",
    "Oakhaven",
    "Pebble",
    "Verdant",
    "Halcyon",
    "Copperleaf",
]
COLOURS = [
    "Black",
    "White",
    "Navy",
    "Red",
    "Green",
    "Blue",
    "Grey",
    "Beige",
    "Pink",
    "Yellow",
    "Brown",
    "Olive",
    "Orange",
    "Purple",
    "Silver",
]
ADJECTIVES = [
    "Essential",
    "Everyday",
    "Trail",
    "Studio",
    "Harbour",
    "Summit",
    "Coastal",
    "Urban",
    "Heritage",
    "Nomad",
    "Atelier",
    "Alpine",
]


@dataclass
class DemoProduct:
    name: str
    slug: str
    category: str
    brand: str
    price: Decimal
    colour: str
    style: str
    function: str
    description: str
    image_kind: str
    variants: list[tuple[str, str, int]] = field(default_factory=list)  # (colour, size, stock)


def slugify_simple(text: str) -> str:
    return "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-").replace("--", "-")


def demo_products(count_per_leaf: int = 22, seed: int = 42) -> list[DemoProduct]:
    rnd = random.Random(seed)
    products: list[DemoProduct] = []
    seen = set()
    for name, _parent, kind, types, prices, sizes, styles, functions in TREE:
        if not types:
            continue
        for index in range(count_per_leaf):
            product_type = types[index % len(types)]
            adjective = ADJECTIVES[(index * 5 + len(name)) % len(ADJECTIVES)]
            colour = rnd.choice(COLOURS)
            brand = rnd.choice(BRANDS)
            title = f"{adjective} {product_type}"
            slug = slugify_simple(f"{brand} {title} {colour}")
            if slug in seen:
                slug = f"{slug}-{index}"
            seen.add(slug)
            low, high = prices
            price = Decimal(rnd.randint(low * 100, high * 100) // 100) + Decimal("0.99")
            style, function = rnd.choice(styles), rnd.choice(functions)
            description = (
                f"The {title.lower()} by {brand}: {style.lower()} and made for "
                f"{function.lower()}. In {colour.lower()}, built to last and easy to care for.\n"
                f"Every {product_type.lower()} is checked by hand before it ships."
            )
            if sizes:
                picked = sizes if len(sizes) <= 5 else rnd.sample(sizes, 5)
                variants = [(colour, size, rnd.choice([0, 2, 5, 8, 12, 20])) for size in picked]
                second = rnd.choice([c for c in COLOURS if c != colour])
                if rnd.random() < 0.4:
                    variants += [(second, size, rnd.choice([3, 6, 10])) for size in picked[:3]]
            else:
                variants = [(colour, "", rnd.choice([0, 3, 9, 15, 25, 40]))]
            products.append(
                DemoProduct(
                    name=f"{brand} {title}",
                    slug=slug,
                    category=name,
                    brand=brand,
                    price=price,
                    colour=colour,
                    style=style,
                    function=function,
                    description=description,
                    image_kind=TYPE_KINDS.get(product_type, kind),
                    variants=variants,
                )
            )
    return products
