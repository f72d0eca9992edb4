"""Product pictures drawn by the project (there is no internet to fetch photos from).

Each picture is a soft studio backdrop with a simple silhouette for the product's category,
painted in the product's colour; the three views of a product differ in angle and framing.
"""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

COLOURS = {
    "Black": (38, 38, 44),
    "White": (240, 240, 236),
    "Navy": (31, 50, 96),
    "Red": (196, 45, 52),
    "Green": (46, 125, 80),
    "Blue": (47, 110, 186),
    "Grey": (128, 132, 140),
    "Beige": (214, 192, 160),
    "Pink": (230, 140, 170),
    "Yellow": (240, 196, 60),
    "Brown": (120, 80, 50),
    "Olive": (110, 120, 60),
    "Orange": (232, 120, 40),
    "Purple": (110, 70, 150),
    "Silver": (190, 194, 200),
}
SIZE = 480


def _backdrop(rgb, rnd):
    light = tuple(min(255, int(c * 0.25 + 200)) for c in rgb)
    image = Image.new("RGB", (SIZE, SIZE), light)
    draw = ImageDraw.Draw(image)
    for y in range(SIZE):
        shade = int(18 * y / SIZE)
        draw.line([(0, y), (SIZE, y)], fill=tuple(max(0, c - shade) for c in light))
    floor = int(SIZE * (0.72 + rnd.uniform(-0.04, 0.04)))
    draw.ellipse(
        [SIZE * 0.2, floor - 12, SIZE * 0.8, floor + 22], fill=tuple(max(0, c - 40) for c in light)
    )
    return image.filter(ImageFilter.GaussianBlur(2)), floor


def _shape(draw, kind, rgb, cx, cy, scale, angle):
    dark = tuple(max(0, c - 50) for c in rgb)
    s = scale

    def rot(points):
        a = math.radians(angle)
        return [
            (
                cx + (x * math.cos(a) - y * math.sin(a)) * s,
                cy + (x * math.sin(a) + y * math.cos(a)) * s,
            )
            for x, y in points
        ]

    if kind == "top":
        draw.polygon(
            rot(
                [
                    (-60, -80),
                    (-110, -50),
                    (-90, -10),
                    (-60, -25),
                    (-60, 90),
                    (60, 90),
                    (60, -25),
                    (90, -10),
                    (110, -50),
                    (60, -80),
                    (25, -80),
                    (0, -60),
                    (-25, -80),
                ]
            ),
            fill=rgb,
            outline=dark,
        )
    elif kind == "shoe":
        draw.polygon(
            rot(
                [
                    (-110, 40),
                    (-100, -20),
                    (-40, -30),
                    (0, -60),
                    (30, -60),
                    (40, 0),
                    (110, 20),
                    (115, 50),
                    (-110, 50),
                ]
            ),
            fill=rgb,
            outline=dark,
        )
        draw.rectangle([cx - 110 * s, cy + 45 * s, cx + 115 * s, cy + 58 * s], fill=dark)
    elif kind == "bag":
        draw.arc(
            [cx - 50 * s, cy - 110 * s, cx + 50 * s, cy - 10 * s],
            180,
            360,
            fill=dark,
            width=int(10 * s),
        )
        draw.rounded_rectangle(
            [cx - 95 * s, cy - 60 * s, cx + 95 * s, cy + 80 * s],
            radius=int(18 * s),
            fill=rgb,
            outline=dark,
        )
    elif kind == "camera":
        draw.rounded_rectangle(
            [cx - 110 * s, cy - 60 * s, cx + 110 * s, cy + 70 * s],
            radius=int(16 * s),
            fill=rgb,
            outline=dark,
        )
        draw.ellipse([cx - 50 * s, cy - 45 * s, cx + 50 * s, cy + 55 * s], fill=dark)
        draw.ellipse([cx - 30 * s, cy - 25 * s, cx + 30 * s, cy + 35 * s], fill=(30, 30, 40))
    elif kind == "audio":
        draw.arc(
            [cx - 90 * s, cy - 100 * s, cx + 90 * s, cy + 60 * s],
            180,
            360,
            fill=dark,
            width=int(14 * s),
        )
        draw.rounded_rectangle(
            [cx - 105 * s, cy - 10 * s, cx - 55 * s, cy + 80 * s],
            radius=int(14 * s),
            fill=rgb,
            outline=dark,
        )
        draw.rounded_rectangle(
            [cx + 55 * s, cy - 10 * s, cx + 105 * s, cy + 80 * s],
            radius=int(14 * s),
            fill=rgb,
            outline=dark,
        )
    elif kind == "mug":
        draw.rounded_rectangle(
            [cx - 70 * s, cy - 70 * s, cx + 50 * s, cy + 80 * s],
            radius=int(12 * s),
            fill=rgb,
            outline=dark,
        )
        draw.arc(
            [cx + 25 * s, cy - 40 * s, cx + 95 * s, cy + 40 * s],
            270,
            90,
            fill=rgb,
            width=int(14 * s),
        )
    elif kind == "bottle":
        draw.rounded_rectangle(
            [cx - 45 * s, cy - 60 * s, cx + 45 * s, cy + 90 * s],
            radius=int(20 * s),
            fill=rgb,
            outline=dark,
        )
        draw.rectangle([cx - 20 * s, cy - 100 * s, cx + 20 * s, cy - 55 * s], fill=dark)
    elif kind == "book":
        draw.polygon(rot([(-90, -100), (80, -100), (80, 90), (-90, 90)]), fill=rgb, outline=dark)
        draw.polygon(rot([(-90, -100), (-70, -100), (-70, 90), (-90, 90)]), fill=dark)
    elif kind == "ball":
        draw.ellipse(
            [cx - 85 * s, cy - 85 * s, cx + 85 * s, cy + 85 * s], fill=rgb, outline=dark, width=3
        )
        draw.arc([cx - 85 * s, cy - 30 * s, cx + 85 * s, cy + 40 * s], 0, 180, fill=dark, width=4)
    else:  # jacket and anything else: a long coat
        draw.polygon(
            rot(
                [
                    (-55, -95),
                    (-115, -55),
                    (-100, 40),
                    (-65, 20),
                    (-70, 110),
                    (70, 110),
                    (65, 20),
                    (100, 40),
                    (115, -55),
                    (55, -95),
                    (0, -40),
                ]
            ),
            fill=rgb,
            outline=dark,
        )
        draw.line(rot([(0, -40), (0, 110)]), fill=dark, width=3)


def product_image(*, kind: str, colour: str, seed: int, view: int) -> bytes:
    """A JPEG of one view (0, 1, 2) of a product."""
    rnd = random.Random(seed * 7 + view)
    rgb = COLOURS.get(colour, (120, 130, 150))
    image, floor = _backdrop(rgb, rnd)
    draw = ImageDraw.Draw(image)
    scale = (1.35, 1.0, 1.7)[view % 3]
    angle = (0, -12, 8)[view % 3]
    _shape(draw, kind, rgb, SIZE / 2, floor - 100 * scale, scale, angle)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue()
