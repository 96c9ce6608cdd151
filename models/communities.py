"""Communities, their groups, their staff (owner, admins) and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from models.errors import NotAllowed
from models.programme import programme_from
from models.tables import AuditLog, ChatGroup, Community, Member, Role
from models.types import id_of

OWNER = "owner"
ADMIN = "admin"


def get(session: Session, community_id: int) -> Community | None:
    return session.get(Community, community_id)


def ids(session: Session) -> list[int]:
    """Every community, oldest first."""
    return list(session.execute(select(col(Community.id)).order_by(col(Community.id))).scalars())


def owners(session: Session) -> list[tuple[Community, Member]]:
    """Every community with its owner, oldest community first."""
    rows = session.execute(
        select(Community, Member).join(Role, col(Role.community_id) == col(Community.id))
        .join(Member, col(Member.id) == col(Role.member_id))
        .where(col(Role.role) == OWNER).order_by(col(Community.id))).all()
    return [(community, member) for community, member in rows]


def role_of(session: Session, community_id: int, member_id: int) -> str | None:
    return session.execute(
        select(col(Role.role)).where(col(Role.community_id) == community_id, col(Role.member_id) == member_id)
    ).scalar_one_or_none()


def audit(
    session: Session, community_id: int | None, actor: str, action: str, allowed: bool,
    detail: str = "", actor_member_id: int | None = None, at: datetime | None = None,
) -> None:
    entry = AuditLog(
        community_id=community_id, actor=actor[:96], action=action[:32], allowed=allowed,
        detail=detail[:500], actor_member_id=actor_member_id,
    )
    if at is not None:
        entry.at = at
    session.add(entry)


def require_staff(
    session: Session, community_id: int, member: Member, actor: str, action: str,
    *, owner_only: bool = False, detail: str = "",
) -> str:
    """The actor's role, or NotAllowed — the refusal is written to the audit log either way."""
    role = role_of(session, community_id, id_of(member))
    allowed = role == OWNER or (role == ADMIN and not owner_only)
    if role is None or not allowed:
        audit(session, community_id, actor, action, False, detail, member.id)
        raise NotAllowed(action=action, owner_only=owner_only and role == ADMIN)
    return role


def set_role(session: Session, community_id: int, member_id: int, role: str | None) -> None:
    """Give a role, or take it away (None). The owner's role is never taken this way."""
    current = role_of(session, community_id, member_id)
    if current == OWNER:
        return
    session.execute(
        delete(Role).where(col(Role.community_id) == community_id, col(Role.member_id) == member_id)
    )
    if role is not None:
        session.add(Role(community_id=community_id, member_id=member_id, role=role))
    session.flush()


def staff_communities(session: Session, member_ids: list[int]) -> list[Community]:
    return list(
        session.execute(
            select(Community)
            .where(col(Community.id).in_(
                select(col(Role.community_id)).where(col(Role.member_id).in_(member_ids))
            ))
            .order_by(col(Community.id))
        ).scalars()
    )


def bind_group(
    session: Session, community: Community, channel: str, chat: str, title: str
) -> bool:
    """Bind a chat group to the community; False when it is already bound (to any)."""
    found = session.execute(
        select(ChatGroup).where(col(ChatGroup.channel) == channel, col(ChatGroup.external_id) == chat)
    ).scalar_one_or_none()
    if found is not None:
        return False
    session.add(ChatGroup(
        community_id=id_of(community), channel=channel, external_id=chat, title=title[:128],
    ))
    session.flush()
    return True


def groups(session: Session, community_id: int) -> list[ChatGroup]:
    """The community's chat groups, in the order they were bound."""
    return list(session.execute(select(ChatGroup).where(col(ChatGroup.community_id) == community_id)
                                .order_by(col(ChatGroup.id))).scalars())


def create(
    session: Session, slug: str, name: str, *, timezone: str = "Asia/Taipei",
    currency: str = "TWD", default_locale: str = "zh-Hant",
) -> Community:
    community = Community(
        slug=slug, name=name, timezone=timezone, currency=currency, default_locale=default_locale,
    )
    session.add(community)
    session.flush()
    return community


def set_programme(session: Session, community: Community, config: dict[str, Any]) -> None:
    """Store the programme configuration, or ProgrammeError (three commission levels, a cap
    below the lowest level-1 rate, a ladder that does not increase…) and nothing stored."""
    programme_from(config)
    community.programme = config
    session.add(community)
    session.flush()


def staff(session: Session, community_id: int) -> list[tuple[Member, str]]:
    rows = session.execute(
        select(Member, col(Role.role))
        .join(Role, col(Role.member_id) == col(Member.id))
        .where(col(Role.community_id) == community_id)
        .order_by(col(Role.role).desc(), col(Member.id))
    ).all()
    return [(m, r) for m, r in rows]


def recent_audit(session: Session, community_id: int, limit: int) -> list[tuple[AuditLog, str]]:
    """The newest `limit` entries of the community's audit log, with the actor's name (the
    member's display name, else the platform account)."""
    rows = session.execute(
        select(AuditLog, col(Member.display_name))
        .outerjoin(Member, col(Member.id) == col(AuditLog.actor_member_id))
        .where(col(AuditLog.community_id) == community_id)
        .order_by(col(AuditLog.id).desc()).limit(limit)).all()
    return [(entry, name or entry.actor) for entry, name in rows]
