"""Who may see and do what: roles and visibility, in one place.

Routes ask through :func:`api.deps.require_role` (a dependency) or the functions here; services
call these before they act. Nothing here reads the database: it decides over a session and the
few fields of an import that matter (:class:`Owned`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from importer.access.models import UserSession
from importer.errors import Forbidden


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
    """Refuse (403 ``role_required``) a session that has none of ``roles``."""
    wanted = list(roles)
    if set(wanted) & set(user_session.roles):
        return
    if len(wanted) == 1:
        raise Forbidden(f"This needs the role {wanted[0]}.", code="role_required")
    raise Forbidden(f"This needs one of the roles: {', '.join(wanted)}.", code="role_required")


def check_zone_role(user_session: UserSession, zone: str) -> None:
    """Working on an import (or creating one) needs the role of its zone."""
    check_roles(user_session, [ZONE_ROLES[zone]])


def can_see(imp: Owned, user_session: UserSession) -> bool:
    """A session sees the imports of its order (or, without an order, its user's own); every
    referent sees the temporary zone."""
    if imp.zone == Zone.temporary and "temporary_zone" in user_session.roles:
        return True  # the temporary zone is reviewed by every referent
    if user_session.order_pk is not None:
        return imp.order_pk == user_session.order_pk
    return imp.created_by == user_session.user_id
