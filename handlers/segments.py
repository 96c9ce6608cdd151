"""Segments and tags, by leaders: `/segment new NAME RULE…`, `/segment NAME`, `/segments`,
`/segment delete NAME`, `/tag @name TAG` (`-TAG` takes it off). Rules: models/rules/segments.py."""

from __future__ import annotations

import re

from handlers.context import Ctx
from handlers.leader import actor, target_member
from messages.types import Reply
from models import communities, segments, tags
from models.errors import DomainError, Usage
from models.types import id_of

NEW = ("new", "add", "新增", "新建", "建立")
DELETE = ("delete", "remove", "刪除", "删除")
_NAME = re.compile(r"^[^\s=<>!@/\"]{1,32}$")
SAMPLE = 5


def _name(word: str) -> str:
    if _NAME.match(word) is None or word.lower() in NEW + DELETE:
        raise Usage("segment")
    return word


def segment(ctx: Ctx) -> list[Reply]:
    verb, _, rest = ctx.args.partition(" ")
    if not verb:
        raise Usage("segment")
    if verb.lower() in NEW:
        return _define(ctx, rest.strip())
    if verb.lower() in DELETE:
        name = _name(rest.strip())
        if not segments.delete_segment(ctx.session, id_of(ctx.community), name):
            raise DomainError("segment_not_found", name=name)
        communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "segment", True,
                          f"delete {name}", ctx.member.id, ctx.now)
        return [ctx.reply("segment_deleted", name=name)]
    return _show(ctx, _name(ctx.args.strip()))


def _define(ctx: Ctx, args: str) -> list[Reply]:
    word, _, rule_text = args.partition(" ")
    name = _name(word)
    if not rule_text.strip():
        raise Usage("segment")
    rule = segments.checked_rule(ctx.community, rule_text)
    replaced = segments.find_segment(ctx.session, id_of(ctx.community), name) is not None
    segments.save_segment(ctx.session, community_id=id_of(ctx.community), name=name,
                          rule_text=rule.text, by=ctx.member.id, now=ctx.now)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "segment", True,
                      f"{name} {rule.text}", ctx.member.id, ctx.now)
    count, people = segments.count_and_sample(ctx.session, id_of(ctx.community), rule,
                                              ctx.local_now, SAMPLE)
    return [ctx.card("segment_saved", name=name, rule=rule.text, count=count, people=people,
                      replaced=replaced)]


def _show(ctx: Ctx, name: str) -> list[Reply]:
    found = segments.find_segment(ctx.session, id_of(ctx.community), name)
    if found is None:
        raise DomainError("segment_not_found", name=name)
    rule = segments.checked_rule(ctx.community, found.rule_text)
    count, people = segments.count_and_sample(ctx.session, id_of(ctx.community), rule,
                                              ctx.local_now, SAMPLE)
    return [ctx.card("segment_shown", name=found.name, rule=found.rule_text, count=count,
                      people=people)]


def list_all(ctx: Ctx) -> list[Reply]:
    saved = segments.counted_segments(ctx.session, ctx.community, ctx.local_now)
    return [ctx.card("segments_list", saved=saved)]


def tag(ctx: Ctx) -> list[Reply]:
    target, rest = target_member(ctx, "tag")
    word = rest[0] if len(rest) == 1 else ""
    removing = word.startswith("-")
    name = word.removeprefix("-")
    if not tags.valid(name):
        raise Usage("tag")
    changed = (tags.untag if removing else tags.tag)(
        ctx.session, id_of(ctx.community), id_of(target), name, ctx.now)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "tag", True,
                      f"{target.id} {word}", ctx.member.id, ctx.now)
    return [ctx.reply("tag_set", target=target, tag=name, removed=removing, changed=changed)]
