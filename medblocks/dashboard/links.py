"""URLs from the API are only shown as links or images when their scheme is safe."""

from __future__ import annotations

from urllib.parse import urlsplit

SAFE_IMAGE_DATA = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/svg+xml")


def safe_link(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None (no `javascript:` or `data:` links)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def safe_image(url: str | None) -> str | None:
    """An http(s) URL or an inline raster/SVG image (`data:image/…`), else None."""
    if isinstance(url, str) and url.strip().lower().startswith(SAFE_IMAGE_DATA):
        return url.strip()
    return safe_link(url)
