"""`python -m medblocks mirror webhook register URL | list`: the receiver's webhook endpoint.

Team deployment needs one endpoint per receiver, subscribed to every event type, and its
`whsec_` signing secret in the receiver's environment. `register` creates it through the client
(`POST /webhooks` with `events: ["*"]`) and prints the secret once, with the variable it belongs
in; Medblocks shows it only in that answer (and after a rotation). `list` shows the workspace's
endpoints without any secret (the list answer carries none).
"""

from __future__ import annotations

import argparse
import sys

from medblocks.client import AsyncMedblocks, MedblocksError
from medblocks.client.errors import APIConnectionError, AuthenticationError, PermissionDeniedError
from medblocks.mirror.settings import WEBHOOK_ENDPOINT_VARIABLE, WEBHOOK_SECRET_VARIABLE

DESCRIPTION = "medblocks workbench: org mirror receiver"


def add_webhook_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhook = actions.add_parser(
        "webhook", help="register or list the webhook endpoints the receiver needs"
    )
    commands = webhook.add_subparsers(dest="webhook_action", required=True)
    register = commands.add_parser(
        "register",
        help="create an endpoint for all event types; prints its signing secret once",
    )
    register.add_argument(
        "url", help="the receiver's public URL, e.g. https://hooks.example.org/webhooks/medblocks"
    )
    register.add_argument(
        "--description", default=DESCRIPTION, help=f"endpoint description (default: {DESCRIPTION})"
    )
    commands.add_parser("list", help="the workspace's endpoints (never their secrets)")


def failure_text(exc: MedblocksError, base_url: str) -> str:
    """What went wrong and what to do, led by the request id (the key is never in it)."""
    if isinstance(exc, APIConnectionError):
        return (
            f"could not reach {base_url} ({exc.message}): check MEDBLOCKS_API_URL and that the "
            "server is up"
        )
    if isinstance(exc, AuthenticationError):
        return f"the API key was refused ({exc}): check MEDBLOCKS_API_KEY"
    if isinstance(exc, PermissionDeniedError):
        return f"the API key may not manage webhook endpoints ({exc})"
    return f"Medblocks refused the request ({exc})"


async def register(client: AsyncMedblocks, url: str, description: str) -> None:
    endpoint = await client.webhooks.create(url, ["*"], description=description)
    print(f"registered {endpoint.id} ({endpoint.status}) for all event types: {endpoint.url}")
    print(
        f"Its signing secret is shown only now. Put it in the receiver's environment "
        f"(`python -m medblocks mirror listen`), e.g. in .env:\n"
        f"{WEBHOOK_SECRET_VARIABLE}={endpoint.secret}"
    )
    print(f"For `mirror poll` instead of a receiver: {WEBHOOK_ENDPOINT_VARIABLE}={endpoint.id}")


async def list_endpoints(client: AsyncMedblocks) -> None:
    found = 0
    async for endpoint in client.webhooks.list():
        found += 1
        events = ",".join(endpoint.events)
        print(
            f"{endpoint.id}  {endpoint.status:<8}  events={events}  {endpoint.url}"
            + (f"  ({endpoint.description})" if endpoint.description else "")
        )
    if not found:
        print("no webhook endpoints: `python -m medblocks mirror webhook register URL` adds one")


async def run_webhook(args: argparse.Namespace, client: AsyncMedblocks, base_url: str) -> int:
    """Run `register` or `list`; a failed call is one line on stderr and exit status 1."""
    try:
        async with client:
            if args.webhook_action == "register":
                await register(client, args.url, args.description)
            else:
                await list_endpoints(client)
    except MedblocksError as exc:
        print(f"error: {failure_text(exc, base_url)}", file=sys.stderr)
        return 1
    return 0
