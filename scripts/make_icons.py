#!/usr/bin/env python3
"""Draw the site's icons (run again after changing the design; the outputs are committed):
static/icons/icon.svg, static/root/favicon.ico (16, 32, 48 px) and
static/root/apple-touch-icon.png (180 px). A page of notes on the theme's blue."""

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
BLUE, WHITE = (11, 97, 209, 255), (255, 255, 255, 255)
# On a 64-unit grid: the tile's corner radius, then the lines of text (x0, y, x1).
RADIUS = 14
LINES = [(16, 20, 48), (16, 32, 48), (16, 44, 38)]
STROKE = 6

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="{RADIUS}" fill="#0b61d1"/>
<g stroke="#fff" stroke-width="{STROKE}" stroke-linecap="round">
{"".join(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}"/>' for x0, y, x1 in LINES)}
</g>
</svg>
"""


def draw(size: int, *, rounded: bool = True) -> Image.Image:
    scale = 8  # drawn large, then scaled down: smooth edges
    big = size * scale
    unit = big / 64
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if rounded:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=RADIUS * unit, fill=BLUE)
    else:  # iOS rounds the corners itself and wants no transparency
        pen.rectangle((0, 0, big, big), fill=BLUE)
    half = STROKE * unit / 2
    for x0, y, x1 in LINES:
        pen.rounded_rectangle(
            (x0 * unit - half, y * unit - half, x1 * unit + half, y * unit + half), radius=half, fill=WHITE
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    (ROOT / "static/icons/icon.svg").write_text(SVG)
    draw(48).save(ROOT / "static/root/favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    draw(180, rounded=False).convert("RGB").save(ROOT / "static/root/apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
