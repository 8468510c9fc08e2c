"""Which hosts are this machine: the one loopback rule of the project.

Loopback is `localhost` (in any case), any address in 127.0.0.0/8, and `::1` (with or without
the brackets of a URL). A name with a trailing dot (`localhost.`) is not: it is an absolute
DNS name, which a resolver may send to a DNS server whose answer nothing guarantees, so plain
http to it could carry the key off this machine. Nothing else is loopback, however it resolves.

Used where plain http is allowed (the client's base URL, the sandbox's webhook URLs), and
wherever the project asks whether a target or a browser is local. It imports nothing of the
project, so the sandbox (which never imports the client) and the client share it.
"""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost` (any case), 127.0.0.0/8 and ::1; False for anything else."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
