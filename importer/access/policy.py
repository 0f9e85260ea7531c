"""Who may see and do what: roles and visibility, in one place.

Routes ask through :func:`api.deps.require_role` (a dependency) or the functions here; services
call these before they act. Nothing here reads the database: it decides over a session and the
few fields of an import that matter (:class:`Owned`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

from importer.access.models import UserSession
from importer.errors import Forbidden, InvalidInput


class Zone(StrEnum):
    """Where an import's studies go: the PACS under an order, or the temporary zone."""

    pacs = "pacs"
    temporary = "temporary"


ZONE_ROLES: dict[str, str] = {Zone.pacs: "clinician", Zone.temporary: "temporary_zone"}
"""The role that works on imports of each zone."""


class Owned(Protocol):
    """What visibility looks at on an import."""

    zone: str
    order_pk: str | None
    created_by: str


def check_roles(user_session: UserSession, roles: Iterable[str]) -> None:
    """Refuse (403 ``role_required``) a session that has none of ``roles`` (``params``:
    ``role``, the role wanted, or the roles one of which is, comma-separated)."""
    wanted = list(roles)
    if set(wanted) & set(user_session.roles):
        return
    params = {"role": ", ".join(wanted)}
    if len(wanted) == 1:
        raise Forbidden(f"This needs the role {wanted[0]}.", code="role_required", params=params)
    raise Forbidden(
        f"This needs one of the roles: {', '.join(wanted)}.", code="role_required", params=params
    )


def check_zone_role(user_session: UserSession, zone: str) -> None:
    """Working on an import (or creating one) needs the role of its zone."""
    check_roles(user_session, [ZONE_ROLES[zone]])


def can_see(imp: Owned, user_session: UserSession, *, ris_client: str) -> bool:
    """A session sees the imports of its RIS client only (``ris_client``: the client of the
    session that made the import): those of its order (or, without an order, its user's
    own); every referent of the RIS client sees its temporary zone."""
    if ris_client != user_session.ris_client:
        return False  # RIS B's "alice" is not RIS A's "alice"
    if imp.zone == Zone.temporary and "temporary_zone" in user_session.roles:
        return True  # the temporary zone is reviewed by every referent
    if user_session.order_pk is not None:
        return imp.order_pk == user_session.order_pk
    return imp.created_by == user_session.user_id


# --- RIS clients: which configured key a caller holds ------------------------------------------


@dataclass(frozen=True, slots=True)
class RisClient:
    """A RIS calling with one of its keys; ``name`` scopes its orders, users and imports."""

    name: str


# --- RIS callbacks: where the worker may post ---------------------------------------------------


class CallbackRefused(InvalidInput):
    """A callback address the configuration does not allow (``code`` says why)."""


def _host_port(entry: str) -> tuple[str, int | None]:
    parts = urlsplit("//" + entry.strip())
    return (parts.hostname or "").rstrip("."), parts.port


def check_callback_url(url: str, *, signed: bool, hosts: Sequence[str], allow_http: bool) -> None:
    """Refuse (422) a callback the worker must not post: unsigned (no secret configured:
    ``callback_unsigned``), not https while http is not allowed (``callback_insecure``), with a
    user name or password in it (``callback_userinfo``), or to a host not in the allow-list
    (``callback_host_not_allowed``: exact host, case-insensitive; an entry ``host`` allows any
    port, ``host:port`` that port only). The messages never repeat the address."""
    if not signed:
        raise CallbackRefused(
            "Callbacks are not accepted: no callback signing secret is configured "
            "(IMPORTER_CALLBACK_SECRET).",
            code="callback_unsigned",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackRefused(
            "The callback address is not a valid URL.", code="callback_invalid"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise CallbackRefused(
            "The callback address must be an http(s) URL with a host.", code="callback_invalid"
        )
    if scheme != "https" and not allow_http:
        raise CallbackRefused(
            "The callback address must use https (IMPORTER_CALLBACK_ALLOW_HTTP is off).",
            code="callback_insecure",
        )
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused(
            "The callback address must not carry a user name or password.",
            code="callback_userinfo",
        )
    host = parts.hostname.rstrip(".")
    port = port or (443 if scheme == "https" else 80)
    for entry in hosts:
        allowed_host, allowed_port = _host_port(entry)
        if allowed_host and allowed_host == host and allowed_port in (None, port):
            return
    raise CallbackRefused(
        "The callback host is not one this service may call (IMPORTER_CALLBACK_HOSTS).",
        code="callback_host_not_allowed",
    )
