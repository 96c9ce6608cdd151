"""Every command, declared once: its words in each language, who may use it, its usage line and
its place in /help. The router reads the words, the dispatcher the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from handlers import (
    buyleader,
    buylife,
    campaigns,
    commission,
    coupon_admin,
    distributors,
    exports,
    groupbuy,
    leader,
    member,
    pickup,
    poster,
    privacy,
    rating,
    referral,
    report,
    rewards,
    segments,
    settings,
)
from handlers.context import Ctx
from handlers.glance import GlanceHandler
from messages.types import Reply
from models import communities
from models.types import id_of

Handler = Callable[[Ctx], list[Reply]]
Words = dict[str, tuple[str, ...]]  # locale → the words that name the command

MEMBER, STAFF, OWNER = "member", "staff", "owner"  # who may use it; staff = owner or admin
ANY, GROUP, PRIVATE = "any", "group", "private"  # where /help lists it


def _words(en: tuple[str, ...], hant: tuple[str, ...], hans: tuple[str, ...]) -> Words:
    return {"en": en, "zh-Hant": hant, "zh-Hans": hans}


def _none(ctx: Ctx) -> dict[str, object]:
    return {}


@dataclass(frozen=True, slots=True)
class Entry:
    name: str  # also the audit action and the line's key in help.j2
    words: Words
    handler: Handler
    who: str = MEMBER
    bare: bool = False  # its Chinese words count without a slash, as the message's first word
    usage: str | None = None  # usage_<usage>.j2, answered when the handler raises Usage
    usage_args: Callable[[Ctx], dict[str, object]] = _none  # what that template needs
    help: str | None = ANY  # where /help lists it; None: not listed
    audits: bool = False  # the handler audits its own actions (with details); else the dispatcher
    fallback: str | None = None  # run instead for someone not allowed who gave no arguments
    # a member's command that can run without a Session (a read, a '+1' in the group): the
    # light lane first (handlers.glance), the full path for anything it hands back
    glance: GlanceHandler | None = None
    # quick (as a glance is): over long polling stored by the transaction that handles it
    quick: bool = False

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for words in self.words.values() for w in words))


def allowed(who: str, role: str | None) -> bool:
    return who == MEMBER or role == communities.OWNER or (who == STAFF and role == communities.ADMIN)


def show_help(ctx: Ctx) -> list[Reply]:
    """The commands this person may use here: member ones, and the leader ones for staff."""
    role = communities.role_of(ctx.session, id_of(ctx.community), id_of(ctx.member))
    place = GROUP if ctx.msg.is_group else PRIVATE
    shown = [e for e in TABLE if e.help in (ANY, place) and allowed(e.who, role)]
    return [ctx.reply("help", commands=[e.name for e in shown if e.who == MEMBER],
                      leader_commands=[e.name for e in shown if e.who != MEMBER])]


def _points_usage(ctx: Ctx) -> dict[str, object]:
    return {"max": leader.MAX_POINTS}


def _pickup_usage(ctx: Ctx) -> dict[str, object]:
    return {"days": ctx.programme.pickup_days}


def _month_usage(ctx: Ctx) -> dict[str, object]:
    return {"this_month": ctx.local_now.strftime("%Y-%m")}


def _tiers_usage(ctx: Ctx) -> dict[str, object]:
    return {"tiers": [ctx.tier_name(t.key) for t in ctx.programme.tiers]}


def _audit_usage(ctx: Ctx) -> dict[str, object]:
    return {"most": settings.AUDIT_MAX}


TABLE: tuple[Entry, ...] = (
    # members, in the order /help lists them
    Entry("me", _words(("me", "card"), ("我的", "會員", "會員卡"), ("我的", "会员", "会员卡")),
          member.me, bare=True, glance=member.me),
    Entry("points", _words(("points",), ("積分", "點數"), ("积分", "点数")), member.points, bare=True),
    Entry("coupons", _words(("coupons", "wallet"), ("優惠券", "折價券"), ("优惠券", "折价券")),
          member.coupon_wallet, bare=True),
    Entry("rewards", _words(("rewards", "catalogue", "shop"), ("積分商城", "兌換商城", "商城"),
                            ("积分商城", "兑换商城", "商城")), rewards.catalogue, bare=True),
    Entry("redeem", _words(("redeem",), ("兌換",), ("兑换",)), rewards.redeem, usage="redeem"),
    Entry("birthday", _words(("birthday",), ("生日",), ("生日",)), member.birthday, bare=True,
          usage="birthday"),
    Entry("claim", _words(("claim",), ("領取", "領生日禮"), ("领取", "领生日礼")), member.claim),
    Entry("invite", _words(("invite", "referral"), ("邀請", "推薦"), ("邀请", "推荐")),
          member.invite, bare=True),
    Entry("poster", _words(("poster",), ("海報", "宣傳海報"), ("海报", "宣传海报")), poster.poster,
          usage="poster"),
    Entry("checkin", _words(("checkin",), ("簽到", "打卡"), ("签到", "打卡")), member.checkin,
          bare=True),
    Entry("join", _words(("join",), ("跟團",), ("跟团",)), groupbuy.join, usage="join", quick=True,
          glance=groupbuy.join),
    Entry("cancel", _words(("cancel",), ("取消",), ("取消",)), groupbuy.cancel, usage="cancel",
          quick=True),
    Entry("orders", _words(("orders",), ("訂單", "我的訂單"), ("订单", "我的订单")), groupbuy.orders,
          bare=True),
    Entry("usecoupon", _words(("usecoupon",), ("用券",), ("用券",)), groupbuy.use_coupon,
          usage="usecoupon"),
    Entry("usepoints", _words(("usepoints",), ("折抵",), ("抵扣",)), groupbuy.use_points,
          usage="usepoints"),
    Entry("rate", _words(("rate",), ("評分",), ("评分",)), rating.rate, usage="rate"),
    Entry("apply", _words(("apply",), ("申請分銷", "成為分銷商"), ("申请分销", "成为分销商")),
          distributors.apply),
    Entry("distributor", _words(("distributor", "commission"), ("分銷", "分銷商", "佣金"),
                                ("分销", "分销商", "佣金")), commission.card, bare=True),
    Entry("statement", _words(("statement",), ("對帳單", "佣金明細"), ("对账单", "佣金明细")),
          commission.statement, usage="statement", usage_args=_month_usage),
    Entry("leaderboard", _words(("leaderboard", "ranking"), ("排行榜", "分銷排行"), ("排行榜", "分销排行")),
          commission.leaderboard, bare=True),
    Entry("link", _words(("link",), ("連結帳號",), ("关联账号",)), member.link),
    Entry("lang", _words(("lang", "language"), ("語言",), ("语言",)), member.lang, usage="lang"),
    Entry("optout", _words(("optout", "unsubscribe"), ("退訂",), ("退订",)), member.optout),
    Entry("optin", _words(("optin", "subscribe"), ("訂閱",), ("订阅",)), member.optin),
    Entry("privacy", _words(("privacy",), ("隱私", "個資"), ("隐私", "个人信息")), privacy.privacy_info),
    Entry("mydata", _words(("mydata",), ("我的資料",), ("我的数据",)), privacy.mydata),
    Entry("forget", _words(("forget",), ("刪除我的資料",), ("删除我的数据",)), privacy.forget),
    Entry("start", _words(("start",), ("開始", "加入"), ("开始", "加入")), member.start, help=None),
    Entry("help", _words(("help",), ("幫助", "說明", "指令"), ("帮助", "说明", "指令")), show_help,
          bare=True, help=None),
    # leaders
    Entry("open", _words(("open",), ("開團",), ("开团",)), buyleader.open_buy, STAFF, usage="open"),
    Entry("close", _words(("close",), ("結單", "截單"), ("结单", "截单")), buyleader.close, STAFF),
    Entry("reopen", _words(("reopen",), ("重開", "重新開團"), ("重开", "重新开团")), buylife.reopen,
          STAFF, usage="reopen"),
    Entry("extend", _words(("extend",), ("延長", "延期"), ("延长", "延期")), buylife.extend, STAFF,
          usage="extend"),
    Entry("paid", _words(("paid",), ("已付款",), ("已付款",)), partial(buyleader.mark, action="paid"),
          STAFF, usage="mark"),
    Entry("delivered", _words(("delivered",), ("已到貨",), ("已到货",)),
          partial(buyleader.mark, action="delivered"), STAFF, usage="mark"),
    Entry("cancelorder", _words(("cancelorder",), ("取消訂單",), ("取消订单",)),
          partial(buyleader.mark, action="cancelorder"), STAFF, usage="mark"),
    Entry("unpaid", _words(("unpaid",), ("未付款",), ("未付款",)), pickup.unpaid, STAFF),
    Entry("arrived", _words(("arrived",), ("到貨通知", "取貨通知"), ("到货通知", "取货通知")),
          pickup.arrived, STAFF, usage="arrived", usage_args=_pickup_usage),
    Entry("picked", _words(("picked",), ("已取貨",), ("已取货",)), pickup.picked, STAFF,
          usage="picked"),
    Entry("ratings", _words(("ratings",), ("評價",), ("评价",)), rating.ratings_of_buy, STAFF),
    Entry("report", _words(("report", "reports"), ("報表",), ("报表",)), report.report, STAFF,
          usage="report"),
    Entry("export", _words(("export",), ("匯出",), ("导出",)), exports.export, STAFF,
          usage="export"),
    Entry("import", _words(("import",), ("匯入",), ("导入",)), buyleader.import_orders, STAFF,
          usage="import"),
    Entry("applications", _words(("applications",), ("分銷申請",), ("分销申请",)),
          distributors.applications, STAFF),
    Entry("approve", _words(("approve",), ("核准",), ("批准",)), distributors.approve, STAFF,
          usage="approve", audits=True),
    Entry("reject", _words(("reject",), ("駁回",), ("驳回",)), distributors.reject, STAFF,
          usage="reject", audits=True),
    Entry("suspend", _words(("suspend",), ("停權",), ("停权",)), distributors.suspend, STAFF,
          usage="suspend", audits=True),
    Entry("payout", _words(("payout",), ("發放佣金",), ("发放佣金",)), commission.payout, STAFF,
          usage="payout", audits=True),
    Entry("settlement", _words(("settlement",), ("結算",), ("结算",)), commission.settlement_csv,
          STAFF, usage="statement", usage_args=_month_usage),
    Entry("grant", _words(("grant",), ("加點",), ("加点",)), leader.grant, STAFF, usage="grant",
          usage_args=_points_usage, audits=True),
    Entry("deduct", _words(("deduct",), ("扣點",), ("扣点",)), leader.deduct, STAFF, usage="deduct",
          usage_args=_points_usage, audits=True),
    Entry("settier", _words(("settier",), ("設定等級",), ("设定等级",)), leader.settier, STAFF,
          usage="settier", usage_args=_tiers_usage, audits=True),
    Entry("reward", _words(("reward",), ("獎品",), ("奖品",)), rewards.reward, STAFF,
          usage="reward", audits=True),
    Entry("coupon", _words(("coupon",), ("發券", "優惠券管理"), ("发券", "优惠券管理")),
          coupon_admin.coupon, STAFF, usage="coupon", audits=True, fallback="coupons"),
    Entry("holds", _words(("holds",), ("待審獎勵",), ("待审奖励",)), referral.list_holds, STAFF),
    Entry("release", _words(("release",), ("發放獎勵",), ("发放奖励",)), referral.release, STAFF,
          usage="release", audits=True),
    Entry("void", _words(("void",), ("取消獎勵",), ("取消奖励",)), referral.void, STAFF,
          usage="void", audits=True),
    Entry("admin", _words(("admin",), ("管理員",), ("管理员",)), leader.admin, OWNER, usage="admin",
          audits=True),
    Entry("campaign", _words(("campaign",), ("活動", "行銷活動"), ("活动", "营销活动")),
          campaigns.campaign, STAFF, usage="campaign"),
    Entry("campaigns", _words(("campaigns",), ("活動列表",), ("活动列表",)), campaigns.listing,
          STAFF),
    Entry("segment", _words(("segment",), ("分群",), ("分群",)), segments.segment, STAFF,
          usage="segment", audits=True),
    Entry("segments", _words(("segments",), ("分群列表",), ("分群列表",)), segments.list_all, STAFF),
    Entry("tag", _words(("tag",), ("標籤",), ("标签",)), segments.tag, STAFF, usage="tag", audits=True),
    Entry("config", _words(("config", "settings"), ("設定",), ("设置",)), settings.config, STAFF,
          usage="config", audits=True),
    Entry("audit", _words(("audit",), ("操作紀錄", "稽核"), ("操作记录", "审计")), settings.audit,
          OWNER, usage="audit", usage_args=_audit_usage),
    Entry("bind", _words(("bind",), ("綁定",), ("绑定",)), leader.bind, STAFF, audits=True),
)
BY_NAME: dict[str, Entry] = {entry.name: entry for entry in TABLE}
