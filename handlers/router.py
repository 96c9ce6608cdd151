"""From what a member typed to a command name and its arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.rules.groupbuy import BadQuantity, join_quantity
from models.rules.text import normalize

ALIASES: dict[str, tuple[str, ...]] = {
    "start": ("start", "join", "開始", "开始", "加入"),
    "me": ("me", "card", "我的", "會員", "会员", "會員卡", "会员卡"),
    "points": ("points", "積分", "积分", "點數", "点数"),
    "coupons": ("coupons", "coupon", "優惠券", "优惠券", "折價券"),
    "birthday": ("birthday", "生日"),
    "claim": ("claim", "領取", "领取", "領生日禮", "领生日礼"),
    "invite": ("invite", "referral", "邀請", "邀请", "推薦", "推荐"),
    "checkin": ("checkin", "簽到", "签到", "打卡"),
    "lang": ("lang", "language", "語言", "语言"),
    "optout": ("optout", "unsubscribe", "退訂", "退订"),
    "optin": ("optin", "subscribe", "訂閱", "订阅"),
    "help": ("help", "幫助", "帮助", "說明", "说明", "指令"),
    "bind": ("bind", "綁定", "绑定"),
    "link": ("link", "連結帳號", "关联账号"),
    "grant": ("grant", "加點", "加点"),
    "deduct": ("deduct", "扣點", "扣点"),
    "settier": ("settier", "設定等級", "设定等级"),
    "admin": ("admin", "管理員", "管理员"),
    "config": ("config", "settings", "設定", "设置"),
    "join": ("join", "跟團", "跟团"),
    "cancel": ("cancel", "取消"),
    "orders": ("orders", "訂單", "订单", "我的訂單", "我的订单"),
    "usecoupon": ("usecoupon", "用券"),
    "usepoints": ("usepoints", "折抵", "抵扣"),
    "open": ("open", "開團", "开团"),
    "close": ("close", "結單", "结单", "截單", "截单"),
    "paid": ("paid", "已付款"),
    "delivered": ("delivered", "已到貨", "已到货"),
    "cancelorder": ("cancelorder", "取消訂單", "取消订单"),
    "export": ("export", "匯出", "导出"),
    "import": ("import", "匯入", "导入"),
}
_BY_ALIAS = {alias.lower(): name for name, aliases in ALIASES.items() for alias in aliases}
# Without a slash only these whole messages count as commands, so chatter is never misread.
_BARE = {a for name in ("me", "points", "checkin", "invite", "coupons", "help", "orders")
         for a in ALIASES[name] if not a.isascii()}


_BUY_NUMBER = re.compile(r"^\s*#\d{1,6}\s*|\s*#\d{1,6}\s*$")


@dataclass(frozen=True, slots=True)
class Command:
    name: str | None  # None: a slash command we do not know
    word: str
    args: str


def parse(raw: str) -> Command | None:
    """'/me', '／ｍｅ', '/me@tuanbot_bot', '我的', '/grant @amy 100 thanks' → Command; chatter → None."""
    text = normalize(raw)
    if not text:
        return None
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        word = head.split("@", 1)[0].lower()
        return Command(_BY_ALIAS.get(word), word, args.strip())
    if is_join(text):
        return Command("join", "+", text)
    head, _, args = text.partition(" ")
    if head in _BARE:
        return Command(_BY_ALIAS[head], head, args.strip())
    if head.lower() in _BY_ALIAS and head in ("簽到", "签到", "生日", "邀請", "邀请"):
        return Command(_BY_ALIAS[head], head, args.strip())
    return None


def is_join(text: str) -> bool:
    """'+1', '＋１', '加一', '+1 #2', and the bad ones that look like a join ('+0', '+-1')."""
    try:
        return join_quantity(_BUY_NUMBER.sub("", text)) is not None
    except BadQuantity:
        return True
