"""The community-wide exports (`/export members|orders|points|commissions`, `tuanbot export`):
their columns and headers in the leader's language. The orders export keeps the columns our
order import reads back (models/rules/orders_export.py), plus the group buy's number."""

from __future__ import annotations

from models.rules.orders_export import EXPORT_COLUMNS, EXPORT_HEADERS

KINDS = ("members", "orders", "points", "commissions")
# what a leader may type after /export, in any of the three languages
KIND_WORDS: dict[str, str] = {
    "members": "members", "member": "members", "會員": "members", "会员": "members",
    "orders": "orders", "order": "orders", "訂單": "orders", "订单": "orders",
    "points": "points", "積分": "points", "积分": "points", "點數": "points", "点数": "points",
    "commissions": "commissions", "commission": "commissions", "佣金": "commissions",
    "分潤": "commissions", "分润": "commissions",
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "members": ("member_id", "name", "handles", "tier", "points", "points_owed", "orders",
                "spend", "birthday", "referral_code", "referred_by", "joined_at"),
    "orders": (*EXPORT_COLUMNS, "group_buy"),
    "points": ("entry_id", "member_id", "name", "at", "kind", "points", "owed", "reason",
               "expires_on"),
    "commissions": ("entry_id", "at", "member_id", "name", "kind", "order_id", "level", "base",
                    "pct", "pending", "confirmed", "paid", "month"),
}
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "zh-Hant": {
        "members": ("會員編號", "姓名", "帳號", "等級", "積分", "待扣回積分", "訂單數", "累計消費",
                    "生日", "推薦碼", "推薦人編號", "加入時間"),
        "orders": (*EXPORT_HEADERS["zh-Hant"], "團號"),
        "points": ("紀錄編號", "會員編號", "姓名", "時間", "類別", "積分", "待扣回", "原因", "到期日"),
        "commissions": ("紀錄編號", "時間", "會員編號", "姓名", "類別", "訂單編號", "層級",
                        "計佣金額", "佣金比例", "待確認", "已確認", "已發放", "月份"),
    },
    "zh-Hans": {
        "members": ("会员编号", "姓名", "账号", "等级", "积分", "待扣回积分", "订单数", "累计消费",
                    "生日", "推荐码", "推荐人编号", "加入时间"),
        "orders": (*EXPORT_HEADERS["zh-Hans"], "团号"),
        "points": ("记录编号", "会员编号", "姓名", "时间", "类别", "积分", "待扣回", "原因", "到期日"),
        "commissions": ("记录编号", "时间", "会员编号", "姓名", "类别", "订单编号", "层级",
                        "计佣金额", "佣金比例", "待确认", "已确认", "已发放", "月份"),
    },
    "en": COLUMNS,
}


def headers(kind: str, locale: str) -> tuple[str, ...]:
    return HEADERS.get(locale, COLUMNS).get(kind, COLUMNS[kind])
