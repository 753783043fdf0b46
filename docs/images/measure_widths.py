"""Measure how wide characters are on the emulator's buttons, for the table in bot/core/widths.py.

Draws each character in headless Chromium with the emulator's own button style (14 px; on this machine
DejaVu Sans for Latin, Cyrillic and Arabic, Noto Color Emoji for emoji) and prints the table's groups:
characters by their advance width in px, rounded up to 0.1 px. Arabic letters are measured in their
joined forms (with a tatweel) as "inner" (joined to the next letter) and "end" (a word's last letter).

    .venv/bin/python docs/images/measure_widths.py
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from pathlib import Path

CSS = (Path(__file__).resolve().parents[2] / "telegram_emulator/web/style.css").read_text()
PAGE = (
    f"<html><head><meta charset=utf-8><style>{CSS} .probe {{ display: inline-block; white-space: pre; }}"
    "</style></head><body><div class='inline-keyboard'><div class='inline-row'><button class='inline-button'>"
    "<span class='probe' id='p'></span></button></div></div></body></html>"
)
TEXT = (
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0x400, 0x460)]
    + [chr(c) for c in range(0x660, 0x66A)]
    + list("\u00a0\u202f…·—–•«»‹›“”‘’„№€₽£¥₹°×⋯→←↑↓،؛؟٪")
)
TATWEEL = "\u0640"
ARABIC = [chr(c) for c in range(0x621, 0x64B) if chr(c) != TATWEEL and not 0x63B <= c <= 0x63F]


async def measure(texts: list[str]) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = await browser.new_page()
        await page.set_content(PAGE)
        await page.evaluate("document.fonts.ready")
        widths = await page.evaluate(
            """(texts) => {
                const probe = document.getElementById('p');
                return texts.map((t) => {
                    probe.textContent = t;
                    return probe.getBoundingClientRect().width;
                });
            }""",
            texts,
        )
        await browser.close()
    return [float(w) for w in widths]


def groups(widths: dict[str, float]) -> str:
    by_width: dict[float, str] = defaultdict(str)
    for char, px in widths.items():
        by_width[math.ceil(px * 10 - 0.05) / 10] += char
    return "\n".join(f"    {px}: {chars!r}," for px, chars in sorted(by_width.items()))


def main() -> None:
    forms = [f for a in ARABIC for f in (a, TATWEEL + a, a + TATWEEL, TATWEEL + a + TATWEEL)]
    widths = asyncio.run(measure([*TEXT, TATWEEL, *forms]))
    plain = dict(zip(TEXT, widths, strict=False))
    tatweel, arabic = widths[len(TEXT)], widths[len(TEXT) + 1 :]
    inner, end = {}, {}
    for n, letter in enumerate(ARABIC):
        alone, final, initial, medial = arabic[4 * n : 4 * n + 4]
        end[letter] = max(alone, final - tatweel)
        inner[letter] = max(initial - tatweel, medial - 2 * tatweel)
    print("_PX = _table({\n" + groups(plain) + "\n})")
    print("_ARABIC_INNER = _table({\n" + groups(inner) + "\n})")
    print("_ARABIC_END = _table({\n" + groups(end) + "\n})")


if __name__ == "__main__":
    main()
