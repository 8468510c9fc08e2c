"""Auto-pagination over cursor lists: iterate to get every item of every page, in order.

A page's `next_cursor` is passed as the next call's `starting_after` while `has_more` is
true. Pages are fetched lazily, one at a time, as iteration reaches them.

Every list ends: `CursorTrail` is the one rule for following cursors, used by both paginators
and by every hand-written cursor loop (the mirror's sync). A cursor that comes back a second
time (the same one repeated, or a cycle through several), a page that says `has_more` without
a `next_cursor`, and a list longer than the page budget each raise `PaginationError`, naming
the operation, the cursor and the request id of the page that broke the rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

from medblocks.client.errors import NO_REQUEST_ID, MedblocksError

ItemT = TypeVar("ItemT")
ItemT_co = TypeVar("ItemT_co", covariant=True)

MAX_PAGES = 100_000  # 10 million items at 100 a page: far beyond any real organisation


class PageLike(Protocol[ItemT_co]):
    @property
    def data(self) -> Sequence[ItemT_co]: ...

    @property
    def has_more(self) -> bool: ...

    @property
    def next_cursor(self) -> str | None: ...


class PaginationError(MedblocksError):
    """A list that would never end: its cursor repeated or cycled, it said `has_more` without
    a cursor, or it ran past the page budget. `cursor` is the cursor at fault (None when the
    page gave none); `request_id` the page's."""

    def __init__(
        self, reason: str, *, operation: str, cursor: str | None, request_id: str | None
    ) -> None:
        shown = "none" if cursor is None else repr(cursor)
        super().__init__(
            f"the list {operation} was stopped: {reason} (cursor {shown})",
            operation=operation,
            request_id=request_id,
            type="pagination_error",
        )
        self.cursor = cursor
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.request_id or NO_REQUEST_ID}: {self.message}"


class CursorTrail:
    """The cursors one listing has followed; `next(page)` is the cursor to send next, None
    at the end, or raises `PaginationError`."""

    def __init__(self, operation: str, *, max_pages: int = MAX_PAGES) -> None:
        self.operation = operation
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[str] = set()

    def next(self, page: PageLike[object]) -> str | None:
        self.pages += 1
        if not page.has_more:
            return None
        cursor = page.next_cursor
        request_id = getattr(page, "_request_id", None)
        if not cursor:
            raise PaginationError(
                "the page says has_more but gives no next_cursor",
                operation=self.operation,
                cursor=None,
                request_id=request_id,
            )
        if cursor in self._seen:
            raise PaginationError(
                f"next_cursor came back after {self.pages} pages (it repeats or cycles)",
                operation=self.operation,
                cursor=cursor,
                request_id=request_id,
            )
        if self.pages >= self.max_pages:
            raise PaginationError(
                f"still has_more after {self.pages} pages (the budget)",
                operation=self.operation,
                cursor=cursor,
                request_id=request_id,
            )
        self._seen.add(cursor)
        return cursor


class Paginator(Generic[ItemT]):
    """Every item of a list across pages; `pages()` gives the pages themselves."""

    def __init__(
        self,
        fetch: Callable[[str | None], PageLike[ItemT]],
        operation: str,
        *,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._fetch = fetch
        self._operation = operation
        self._max_pages = max_pages

    def pages(self) -> Iterator[PageLike[ItemT]]:
        trail = CursorTrail(self._operation, max_pages=self._max_pages)
        cursor: str | None = None
        while True:
            page = self._fetch(cursor)
            yield page
            cursor = trail.next(page)
            if cursor is None:
                return

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from page.data


class AsyncPaginator(Generic[ItemT]):
    """Every item of a list across pages, for `async for`; `pages()` gives the pages."""

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[PageLike[ItemT]]],
        operation: str,
        *,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._fetch = fetch
        self._operation = operation
        self._max_pages = max_pages

    async def pages(self) -> AsyncIterator[PageLike[ItemT]]:
        trail = CursorTrail(self._operation, max_pages=self._max_pages)
        cursor: str | None = None
        while True:
            page = await self._fetch(cursor)
            yield page
            cursor = trail.next(page)
            if cursor is None:
                return

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.data:
                yield item
