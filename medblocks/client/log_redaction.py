"""Keep patient emails out of httpx's own request log.

httpx logs every request at INFO as `HTTP Request: <method> <url> ...`, query string
included, and `GET /patients?email=…` carries an email there. The filter installed here on
the `httpx` logger rewrites that URL without its query; the client's own log lines never
hold a URL. It is installed once, when `medblocks.client` is imported.
"""

from __future__ import annotations

import logging

import httpx


class QueryRedactingFilter(logging.Filter):
    """Drops the query string from the URL argument of httpx's request log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, httpx.URL) and arg.query for arg in record.args
        ):
            record.args = tuple(
                arg.copy_with(query=b"redacted")
                if isinstance(arg, httpx.URL) and arg.query
                else arg
                for arg in record.args
            )
        return True


def install() -> None:
    """Attach the filter to the `httpx` logger unless it is already there."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, QueryRedactingFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(QueryRedactingFilter())
