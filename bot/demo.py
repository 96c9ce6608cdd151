"""The demo community a fresh install opens on: one group `demo`, owned by `leader`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import communities, members
from models.types import id_of

DEMO_SLUG = "demo"
DEMO_GROUP = "demo"
DEMO_OWNER = "leader"


def seed_demo(session: Session, now: datetime) -> bool:
    """Create the demo community once; False when it already exists."""
    if members.community_by_slug(session, DEMO_SLUG) is not None:
        return False
    community = communities.create(session, DEMO_SLUG, "Demo 團購社群")
    communities.bind_group(session, community, "console", DEMO_GROUP, "demo")
    owner = members.join(session, community, "console", DEMO_OWNER, DEMO_OWNER, DEMO_OWNER, now)
    communities.set_role(session, id_of(community), id_of(owner.member), communities.OWNER)
    return True
