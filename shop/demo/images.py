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
#: A short-sleeved top's outline (points around the centre, before scaling and rotation).
T_SHIRT = [
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
            rot(T_SHIRT),
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
    elif kind in EXTRA_SHAPES:
        # Upright: these shapes mix polygons with boxes, which a rotation would pull apart.
        angle = 0
        EXTRA_SHAPES[kind](draw, rgb, dark, cx, cy, s, rot)
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


def _box(cx, cy, s, x0, y0, x1, y1):
    return [cx + x0 * s, cy + y0 * s, cx + x1 * s, cy + y1 * s]


def _sleeved(draw, rgb, dark, cx, cy, s, rot, *, long_sleeves, collar=None, hood=False):
    """A garment seen from the front: T-shirt, polo, shirt, sweater or hoodie."""
    if long_sleeves:
        outline = [
            (-60, -80),
            (-100, -55),
            (-125, 75),
            (-95, 80),
            (-75, -10),
            (-60, 90),
            (60, 90),
            (75, -10),
            (95, 80),
            (125, 75),
            (100, -55),
            (60, -80),
            (25, -80),
            (0, -60),
            (-25, -80),
        ]
    else:
        outline = T_SHIRT
    if hood:
        draw.ellipse(_box(cx, cy, s, -45, -125, 45, -50), fill=rgb, outline=dark, width=3)
        draw.ellipse(_box(cx, cy, s, -28, -110, 28, -62), fill=dark)
    draw.polygon(rot(outline), fill=rgb, outline=dark)
    if long_sleeves and not hood and collar is None:  # sweater: ribbed hem and cuffs
        draw.rectangle(_box(cx, cy, s, -60, 78, 60, 90), fill=dark)
    if hood:
        draw.rounded_rectangle(_box(cx, cy, s, -40, 20, 40, 60), radius=int(8 * s), outline=dark)
        draw.line(rot([(-8, -60), (-8, -20)]), fill=dark, width=3)
        draw.line(rot([(8, -60), (8, -20)]), fill=dark, width=3)
    if collar:
        draw.polygon(rot([(-25, -80), (0, -55), (-10, -40), (-35, -72)]), fill=dark)
        draw.polygon(rot([(25, -80), (0, -55), (10, -40), (35, -72)]), fill=dark)
        bottom = 85 if collar == "shirt" else -10
        draw.line(rot([(0, -55), (0, bottom)]), fill=dark, width=2)
        for y in range(-40, bottom, 25):
            draw.ellipse(_box(cx, cy, s, -4, y - 4, 4, y + 4), fill=dark)


def _boot(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(
        rot([(-60, -100), (10, -100), (15, 0), (100, 20), (110, 50), (-70, 50), (-70, 0)]),
        fill=rgb,
        outline=dark,
    )
    draw.polygon(rot([(-62, -40), (12, -40), (14, -10), (-66, -10)]), fill=dark)  # elastic
    draw.rectangle(_box(cx, cy, s, -72, 45, 110, 60), fill=dark)


def _backpack(draw, rgb, dark, cx, cy, s, rot):
    draw.arc(_box(cx, cy, s, -30, -130, 30, -80), 180, 360, fill=dark, width=int(8 * s))
    draw.rounded_rectangle(_box(cx, cy, s, -75, -105, 75, 90), radius=int(40 * s), fill=rgb)
    draw.rounded_rectangle(
        _box(cx, cy, s, -75, -105, 75, 90), radius=int(40 * s), outline=dark, width=3
    )
    draw.rounded_rectangle(
        _box(cx, cy, s, -50, 10, 50, 75), radius=int(12 * s), fill=rgb, outline=dark, width=3
    )
    draw.line(_box(cx, cy, s, -40, 25, 40, 25), fill=dark, width=3)


def _sleeve(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-120, -75), (120, -75), (120, 80), (-120, 80)]), fill=rgb, outline=dark)
    draw.line(rot([(-120, -62), (105, -62)]), fill=dark, width=3)  # zip
    draw.ellipse(_box(cx, cy, s, 100, -70, 114, -54), fill=dark)


def _strap(draw, rgb, dark, cx, cy, s, rot):
    draw.arc(_box(cx, cy, s, -110, -110, 110, 90), 200, 340, fill=rgb, width=int(22 * s))
    draw.arc(_box(cx, cy, s, -110, -110, 110, 90), 200, 340, fill=dark, width=2)
    for side in (-1, 1):
        x = side * 100
        draw.rectangle(_box(cx, cy, s, x - 8, -40, x + 8, 30), fill=rgb, outline=dark)
        draw.ellipse(_box(cx, cy, s, x - 10, 30, x + 10, 50), outline=(90, 90, 96), width=4)


def _earbuds(draw, rgb, dark, cx, cy, s, rot):
    draw.rounded_rectangle(
        _box(cx, cy, s, -80, 20, 80, 90), radius=int(30 * s), fill=(240, 240, 236), outline=dark
    )
    draw.line(_box(cx, cy, s, -80, 45, 80, 45), fill=dark, width=2)
    for x in (-45, 45):
        draw.ellipse(_box(cx, cy, s, x - 28, -80, x + 28, -24), fill=rgb, outline=dark, width=2)
        draw.rounded_rectangle(
            _box(cx, cy, s, x - 8, -40, x + 8, 10), radius=int(8 * s), fill=rgb, outline=dark
        )


def _speaker(draw, rgb, dark, cx, cy, s, rot):
    draw.rounded_rectangle(
        _box(cx, cy, s, -120, -55, 120, 80), radius=int(60 * s), fill=rgb, outline=dark, width=3
    )
    for x in range(-95, 100, 14):
        for y in range(-35, 65, 14):
            draw.ellipse(_box(cx, cy, s, x - 3, y - 3, x + 3, y + 3), fill=dark)


def _kettle(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-45, -70), (45, -70), (75, 90), (-75, 90)]), fill=rgb, outline=dark)
    draw.line(rot([(-70, 60), (-150, -60)]), fill=rgb, width=int(9 * s))  # gooseneck spout
    draw.line(rot([(-150, -60), (-165, -55)]), fill=rgb, width=int(9 * s))
    draw.arc(_box(cx, cy, s, 30, -55, 115, 60), 270, 90, fill=dark, width=int(12 * s))
    draw.ellipse(_box(cx, cy, s, -12, -88, 12, -68), fill=dark)


def _knife(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(
        rot([(-140, -5), (40, -15), (40, 15), (-80, 15), (-140, 0)]),
        fill=(205, 208, 214),
        outline=(120, 124, 130),
    )
    draw.polygon(rot([(40, -14), (140, -12), (145, 12), (40, 14)]), fill=rgb, outline=dark)
    for x in (70, 100, 125):
        draw.ellipse(rot([(x - 3, -3), (x + 3, 3)]), fill=(205, 208, 214))


def _towel(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-80, -100), (80, -100), (80, 95), (-80, 95)]), fill=rgb, outline=dark)
    for y in (-60, -45, 55, 70):
        draw.line(rot([(-80, y), (80, y)]), fill=(240, 240, 236), width=int(6 * s))
    draw.arc(_box(cx, cy, s, -15, -130, 15, -95), 0, 360, fill=dark, width=3)  # hanging loop


def _bowl(draw, rgb, dark, cx, cy, s, rot):
    draw.chord(_box(cx, cy, s, -125, -80, 125, 100), 0, 180, fill=rgb, outline=dark)
    draw.ellipse(_box(cx, cy, s, -125, -5, 125, 25), fill=tuple(min(255, c + 40) for c in rgb))
    draw.ellipse(_box(cx, cy, s, -125, -5, 125, 25), outline=dark, width=2)
    draw.rectangle(_box(cx, cy, s, -40, 88, 40, 98), fill=dark)


def _pan(draw, rgb, dark, cx, cy, s, rot):
    iron = (52, 52, 58)
    draw.ellipse(_box(cx, cy, s, -115, -40, 55, 70), fill=iron, outline=(20, 20, 24), width=4)
    draw.ellipse(_box(cx, cy, s, -100, -28, 40, 58), fill=(70, 70, 76))
    draw.polygon(rot([(50, 5), (150, -20), (155, -5), (52, 25)]), fill=iron)
    draw.ellipse(_box(cx, cy, s, -45, 5, -15, 25), fill=rgb)  # a splash of the product colour


def _mat(draw, rgb, dark, cx, cy, s, rot):
    draw.rectangle(_box(cx, cy, s, -110, -35, 90, 35), fill=rgb, outline=dark)
    draw.ellipse(_box(cx, cy, s, 70, -35, 110, 35), fill=rgb, outline=dark, width=2)
    draw.arc(_box(cx, cy, s, 80, -22, 100, 22), 0, 360, fill=dark, width=2)
    draw.arc(_box(cx, cy, s, 86, -12, 94, 12), 0, 360, fill=dark, width=2)
    draw.line(_box(cx, cy, s, -60, -36, -60, 36), fill=dark, width=int(6 * s))  # strap
    draw.line(_box(cx, cy, s, 30, -36, 30, 36), fill=dark, width=int(6 * s))


def _poles(draw, rgb, dark, cx, cy, s, rot):
    for offset in (-30, 30):
        draw.line(rot([(offset - 10, -110), (offset + 10, 110)]), fill=(150, 154, 160), width=6)
        draw.rounded_rectangle(
            _box(cx, cy, s, offset - 22, -125, offset + 2, -60), radius=int(8 * s), fill=rgb
        )
        draw.line(rot([(offset - 2, 60), (offset + 4, 60)]), fill=dark, width=int(10 * s))


def _lantern(draw, rgb, dark, cx, cy, s, rot):
    draw.arc(_box(cx, cy, s, -35, -140, 35, -80), 180, 360, fill=dark, width=5)
    draw.rounded_rectangle(_box(cx, cy, s, -55, -110, 55, -80), radius=int(8 * s), fill=rgb)
    draw.rectangle(_box(cx, cy, s, -45, -80, 45, 60), fill=(255, 236, 170), outline=dark, width=3)
    draw.ellipse(_box(cx, cy, s, -18, -30, 18, 20), fill=(255, 200, 80))
    draw.rounded_rectangle(_box(cx, cy, s, -60, 55, 60, 90), radius=int(8 * s), fill=rgb)


def _drybag(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-60, -60), (60, -60), (75, 95), (-75, 95)]), fill=rgb, outline=dark)
    for y in (-105, -90, -75):  # the rolled top
        draw.rounded_rectangle(
            _box(cx, cy, s, -70, y, 70, y + 18), radius=int(9 * s), fill=rgb, outline=dark
        )
    for side in (-1, 1):
        draw.rectangle(_box(cx, cy, s, side * 70 - 6, -95, side * 70 + 6, -55), fill=dark)


def _dropper(draw, rgb, dark, cx, cy, s, rot):
    draw.rounded_rectangle(
        _box(cx, cy, s, -45, -30, 45, 95), radius=int(14 * s), fill=rgb, outline=dark
    )
    draw.rectangle(_box(cx, cy, s, -25, -55, 25, -30), fill=(50, 50, 56))
    draw.rounded_rectangle(
        _box(cx, cy, s, -15, -110, 15, -55), radius=int(14 * s), fill=(40, 40, 44)
    )
    draw.rectangle(_box(cx, cy, s, -35, 15, 35, 55), fill=(245, 243, 238))


def _tube(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-70, -100), (70, -100), (40, 60), (-40, 60)]), fill=rgb, outline=dark)
    draw.line(rot([(-70, -92), (70, -92)]), fill=dark, width=2)
    draw.rounded_rectangle(_box(cx, cy, s, -28, 60, 28, 95), radius=int(6 * s), fill=dark)
    draw.rectangle(_box(cx, cy, s, -35, -50, 35, -10), fill=(245, 243, 238))


def _soapbar(draw, rgb, dark, cx, cy, s, rot):
    draw.ellipse(_box(cx, cy, s, -105, -20, 105, 80), fill=dark)
    draw.ellipse(_box(cx, cy, s, -105, -40, 105, 60), fill=rgb, outline=dark, width=2)
    draw.ellipse(_box(cx, cy, s, -45, -5, 45, 25), outline=dark, width=3)


def _balm(draw, rgb, dark, cx, cy, s, rot):
    draw.rounded_rectangle(_box(cx, cy, s, -22, -90, 22, 5), radius=int(10 * s), fill=rgb)
    draw.rounded_rectangle(
        _box(cx, cy, s, -22, -90, 22, 5), radius=int(10 * s), outline=dark, width=2
    )
    draw.rectangle(_box(cx, cy, s, -24, 5, 24, 95), fill=(245, 243, 238), outline=dark)
    draw.line(_box(cx, cy, s, -24, 5, 24, 5), fill=dark, width=3)


def _pen(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-130, -12), (60, -12), (60, 12), (-130, 12)]), fill=rgb, outline=dark)
    draw.polygon(rot([(60, -10), (100, -7), (100, 7), (60, 10)]), fill=(40, 40, 44))
    draw.polygon(rot([(100, -7), (145, 0), (100, 7)]), fill=(212, 175, 80), outline=(150, 120, 50))
    draw.line(rot([(-110, -14), (-40, -14)]), fill=(212, 175, 80), width=int(5 * s))  # clip


def _spiral_book(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-80, -100), (90, -100), (90, 90), (-80, 90)]), fill=rgb, outline=dark)
    for y in range(-90, 90, 16):
        draw.arc(_box(cx, cy, s, -92, y - 6, -68, y + 6), 90, 270, fill=(90, 90, 96), width=3)
    draw.rectangle(_box(cx, cy, s, -40, -50, 60, -20), fill=(245, 243, 238))


def _puzzle(draw, rgb, dark, cx, cy, s, rot):
    light = tuple(min(255, c + 50) for c in rgb)
    for row in range(2):
        for col in range(2):
            x0, y0 = -90 + col * 90, -90 + row * 90
            fill = rgb if (row + col) % 2 else light
            draw.rectangle(_box(cx, cy, s, x0, y0, x0 + 85, y0 + 85), fill=fill, outline=dark)
            draw.ellipse(_box(cx, cy, s, x0 + 70, y0 + 30, x0 + 100, y0 + 55), fill=fill)
            draw.ellipse(_box(cx, cy, s, x0 + 30, y0 + 70, x0 + 55, y0 + 100), fill=fill)


def _boardgame(draw, rgb, dark, cx, cy, s, rot):
    draw.polygon(rot([(-120, -30), (0, -90), (120, -30), (0, 30)]), fill=rgb, outline=dark)
    draw.polygon(rot([(-120, -30), (0, 30), (0, 75), (-120, 15)]), fill=dark)
    draw.polygon(rot([(120, -30), (0, 30), (0, 75), (120, 15)]), fill=rgb, outline=dark)
    draw.polygon(rot([(-50, -30), (0, -55), (50, -30), (0, -5)]), fill=(245, 243, 238))
    for x, y in ((-40, 45), (40, 60)):  # two dice beside the box
        draw.rounded_rectangle(
            _box(cx, cy, s, x - 14, y + 40, x + 14, y + 68), radius=4, fill=(250, 250, 248)
        )
        draw.ellipse(_box(cx, cy, s, x - 3, y + 51, x + 3, y + 57), fill=(30, 30, 30))


def _blocks(draw, rgb, dark, cx, cy, s, rot):
    palette = [rgb, (232, 120, 40), (47, 110, 186), (240, 196, 60), (46, 125, 80)]
    cubes = [(-90, 30), (-30, 30), (30, 30), (-60, -30), (0, -30), (-30, -90)]
    for n, (x, y) in enumerate(cubes):
        colour = palette[n % len(palette)]
        draw.rectangle(_box(cx, cy, s, x, y, x + 58, y + 58), fill=colour, outline=(40, 40, 40))
    draw.ellipse(_box(cx, cy, s, 60, 40, 120, 88), fill=rgb, outline=dark)


def _cards(draw, rgb, dark, cx, cy, s, rot):
    for n, angle in enumerate((-20, -7, 6, 19)):
        a = math.radians(angle)

        def turn(points, a=a):
            return [
                (
                    cx + (x * math.cos(a) - y * math.sin(a)) * s,
                    cy + (x * math.sin(a) + y * math.cos(a)) * s,
                )
                for x, y in points
            ]

        face = (250, 250, 248) if n < 3 else rgb
        draw.polygon(turn([(-45, -70), (45, -70), (45, 70), (-45, 70)]), fill=face, outline=dark)
        if n == 3:
            draw.polygon(
                turn([(-30, -50), (30, -50), (30, 50), (-30, 50)]), outline=(250, 250, 248)
            )
    draw.ellipse(_box(cx, cy, s, 5, -25, 35, 5), fill=dark)


EXTRA_SHAPES = {
    "boot": _boot,
    "backpack": _backpack,
    "sleeve": _sleeve,
    "strap": _strap,
    "earbuds": _earbuds,
    "speaker": _speaker,
    "kettle": _kettle,
    "knife": _knife,
    "towel": _towel,
    "bowl": _bowl,
    "pan": _pan,
    "mat": _mat,
    "poles": _poles,
    "lantern": _lantern,
    "drybag": _drybag,
    "dropper": _dropper,
    "tube": _tube,
    "soapbar": _soapbar,
    "balm": _balm,
    "pen": _pen,
    "spiral": _spiral_book,
    "puzzle": _puzzle,
    "boardgame": _boardgame,
    "blocks": _blocks,
    "cards": _cards,
    "tshirt": lambda *a: _sleeved(*a, long_sleeves=False),
    "polo": lambda *a: _sleeved(*a, long_sleeves=False, collar="polo"),
    "shirt": lambda *a: _sleeved(*a, long_sleeves=True, collar="shirt"),
    "sweater": lambda *a: _sleeved(*a, long_sleeves=True),
    "hoodie": lambda *a: _sleeved(*a, long_sleeves=True, hood=True),
}
# What each demo product type is drawn as (the category's kind when not listed).
TYPE_KINDS = {
    "T-shirt": "tshirt",
    "Linen shirt": "shirt",
    "Merino sweater": "sweater",
    "Hoodie": "hoodie",
    "Polo shirt": "polo",
    "Oxford shirt": "shirt",
    "Chelsea boot": "boot",
    "Backpack": "backpack",
    "Laptop sleeve": "sleeve",
    "Camera strap": "strap",
    "Wireless headphones": "audio",
    "Studio headphones": "audio",
    "Earbuds": "earbuds",
    "Bluetooth speaker": "speaker",
    "Stoneware mug": "mug",
    "Pour-over kettle": "kettle",
    "Chef's knife": "knife",
    "Linen tea towel": "towel",
    "Serving bowl": "bowl",
    "Cast-iron pan": "pan",
    "Insulated bottle": "bottle",
    "Yoga mat": "mat",
    "Trekking poles": "poles",
    "Camping lantern": "lantern",
    "Dry bag": "drybag",
    "Face serum": "dropper",
    "Hand cream": "tube",
    "Shampoo bar": "soapbar",
    "Lip balm": "balm",
    "Body oil": "bottle",
    "Fountain pen": "pen",
    "Sketchbook": "spiral",
    "Weekly planner": "spiral",
    "Wooden puzzle": "puzzle",
    "Board game": "boardgame",
    "Building blocks": "blocks",
    "Play ball": "ball",
    "Card game": "cards",
}


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
