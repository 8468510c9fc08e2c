"""How every `python -m medblocks …` command fails: one clear message, never a traceback.

`run_command(action, verbose=…)` runs a command and turns whatever stopped it into a few lines
on stderr — what failed, the request id where there is one, what to do — and a non-zero exit
status (2: the configuration cannot be used; 1: anything else; 130: interrupted). The
traceback is printed only with `--verbose`. Nothing here prints a server's message or a bound
SQL parameter: they could carry a patient's name or e-mail.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable

import pydantic
import sqlalchemy.exc

from medblocks.client import (
    APIConnectionError,
    AuthenticationError,
    MedblocksError,
    PaginationError,
    PermissionDeniedError,
)
from medblocks.config import ConfigError
from medblocks.mirror.db import database_away, database_failure
from medblocks.mirror.identity import OtherOrganisation
from medblocks.mirror.pacing import describe_failure

CONFIGURATION = 2
FAILED = 1
INTERRUPTED = 130


def add_verbose_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """`--verbose` on a command (anywhere on the line: the top parser keeps the default)."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="on a failure, also print the traceback",
    )


def explain(exc: BaseException) -> tuple[list[str], int]:
    """The lines to print for `exc`, and the exit status."""
    if isinstance(exc, ConfigError) or (
        isinstance(exc, ValueError) and not isinstance(exc, pydantic.ValidationError)
    ):  # a setting or an argument that cannot be used (a validation error quotes values)
        return [f"error: {exc}"], CONFIGURATION
    if isinstance(exc, OtherOrganisation):
        return [f"error: {exc}"], FAILED
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return [
            "error: the API refused the key (" + describe_failure(exc) + ")",
            "what to do: check MEDBLOCKS_API_KEY (and MEDBLOCKS_API_URL); nothing was changed",
        ], FAILED
    if isinstance(exc, APIConnectionError):
        return [
            "error: the API did not answer (" + describe_failure(exc) + ")",
            "what to do: check MEDBLOCKS_API_URL and that the server is up; nothing was changed",
        ], FAILED
    if isinstance(exc, PaginationError):
        return [f"error: {exc}", "what to do: give the request id to Medblocks support"], FAILED
    if isinstance(exc, MedblocksError):
        return [
            "error: an API call failed (" + describe_failure(exc) + ")",
            "what to do: try again; if it persists, give the request id to Medblocks support",
        ], FAILED
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError) and database_away(exc):
        return [
            "error: the mirror's database did not answer or refused the login: "
            + database_failure(exc),
            "what to do: check MEDBLOCKS_DATABASE_URL (or --database-url), that the database "
            "is up and the login it names",
        ], FAILED
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return [
            "error: the mirror's database refused a statement: " + database_failure(exc),
            "what to do: nothing was half-written (each page is one transaction); run it "
            "again with --verbose and report the message",
        ], FAILED
    if isinstance(exc, OSError):
        return [f"error: {type(exc).__name__}: {exc.strerror or exc}"], FAILED
    return [
        f"error: the command stopped on an unexpected {type(exc).__name__}",
        "what to do: run it again with --verbose for the traceback",
    ], FAILED


def run_command(action: Callable[[], int], *, verbose: bool, interrupted: str = "stopped") -> int:
    """Run `action`; a failure is a few lines on stderr and a non-zero status."""
    try:
        return action()
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        lines, status = explain(exc)
        for line in lines:
            print(line, file=sys.stderr)
        if verbose:
            traceback.print_exc()
        return status
