"""Auto-pagination over cursor lists: iterate to get every item of every page, in order.

A page's `next_cursor` is passed as the next call's `starting_after` while `has_more` is
true. Pages are fetched lazily, one at a time, as iteration reaches them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

ItemT = TypeVar("ItemT")
ItemT_co = TypeVar("ItemT_co", covariant=True)


class PageLike(Protocol[ItemT_co]):
    @property
    def data(self) -> Sequence[ItemT_co]: ...

    @property
    def has_more(self) -> bool: ...

    @property
    def next_cursor(self) -> str | None: ...


def _next_cursor(page: PageLike[object]) -> str | None:
    """The cursor of the following page, or None when this page is the last."""
    return page.next_cursor if page.has_more else None


class Paginator(Generic[ItemT]):
    """Every item of a list across pages; `pages()` gives the pages themselves."""

    def __init__(self, fetch: Callable[[str | None], PageLike[ItemT]]) -> None:
        self._fetch = fetch

    def pages(self) -> Iterator[PageLike[ItemT]]:
        cursor: str | None = None
        while True:
            page = self._fetch(cursor)
            yield page
            cursor = _next_cursor(page)
            if cursor is None:
                return

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from page.data


class AsyncPaginator(Generic[ItemT]):
    """Every item of a list across pages, for `async for`; `pages()` gives the pages."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[PageLike[ItemT]]]) -> None:
        self._fetch = fetch

    async def pages(self) -> AsyncIterator[PageLike[ItemT]]:
        cursor: str | None = None
        while True:
            page = await self._fetch(cursor)
            yield page
            cursor = _next_cursor(page)
            if cursor is None:
                return

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.data:
                yield item
