"""Reminder jobs: replenishment when the cycle runs out, birthday coupons at month start."""

from __future__ import annotations

from scheduler.reminders import send_reminders
from tests.conftest import say


def delivered_apples(console, cycle: int = 14) -> None:
    say(console, "amy: /start", f"leader@demo: /open 蘋果 | 100 | 10 | 2h | 水果 | {cycle}",
        "amy@demo: +1", "leader@demo: /delivered all")


def to_amy(console) -> list[str]:
    return [line for line in console.pushes() if line.startswith("bot -> amy")]


def test_a_replenishment_reminder_comes_when_the_cycle_runs_out_and_only_once(console, clock):
    delivered_apples(console)
    clock.advance(days=11)  # due after 14 × 1 − 2 = 12 days
    assert send_reminders(console.deps) == 0
    clock.advance(days=1)
    assert send_reminders(console.deps) == 1
    pushes = [line for line in console.pushes() if line.startswith("bot -> amy")]
    assert len(pushes) == 1 and pushes[0].startswith("bot -> amy: 蘋果 快用完了嗎")
    assert send_reminders(console.deps) == 0


def test_no_replenishment_reminder_after_buying_again(console, clock):
    delivered_apples(console)
    clock.advance(days=3)
    say(console, "leader@demo: /close", "leader@demo: /open 蘋果 | 100 | 10 | 2h | 水果 | 14",
        "amy@demo: +1")
    clock.advance(days=10)
    assert send_reminders(console.deps) == 0


def test_no_replenishment_reminder_for_a_member_who_opted_out(console, clock):
    delivered_apples(console)
    say(console, "amy: /optout")
    clock.advance(days=12)
    assert send_reminders(console.deps) == 0


def test_a_reminder_due_in_quiet_hours_is_pushed_when_they_end(console, clock):
    delivered_apples(console)
    clock.advance(days=12, hours=11)  # 23:00 in Taipei
    assert send_reminders(console.deps) == 1  # queued for 08:00
    assert to_amy(console) == []
    clock.advance(hours=8, minutes=59)  # 07:59
    assert to_amy(console) == [] and send_reminders(console.deps) == 0
    clock.advance(minutes=1)  # 08:00 the next morning
    [pushed] = to_amy(console)
    assert pushed.startswith("bot -> amy: 蘋果 快用完了嗎")


def test_the_birthday_coupon_arrives_at_the_start_of_the_birthday_month(console, clock):
    say(console, "amy: /start", "amy: /birthday 04-15")
    assert send_reminders(console.deps) == 0
    clock.advance(days=22)  # 2026-04-01 12:00 in Taipei
    assert send_reminders(console.deps) == 1
    greeting = [line for line in console.pushes() if line.startswith("bot -> amy")]
    assert "生日月快樂" in greeting[0] and "NT$50" in greeting[0]
    assert "已領取 2026 年的生日禮券" in say(console, "amy: /claim")[0]
    assert send_reminders(console.deps) == 0
