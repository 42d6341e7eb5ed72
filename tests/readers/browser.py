"""Headless Debian chromium through Playwright, with every non-local request blocked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def block_network(context, allowed_prefixes: tuple[str, ...]) -> list[str]:
    """Abort every request whose URL does not start with an allowed prefix; returns them."""
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(allowed_prefixes):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def colour_share(png: bytes, colour: str, tolerance: int = 12) -> float:
    """Share of pixels of a PNG within `tolerance` of `colour` on every channel."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(hex_to_rgb(colour))) <= tolerance, axis=-1)
    return float(near.mean())
