"""Campaigns through the console, as a leader would try them: one line or step by step,
preview, the run, the report, cancel; and every bad input answered with nothing saved.

The clock starts at 2026-03-10 12:00 in Taipei (04:00 UTC) and moves only by hand.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.console import ConsoleChannel
from handlers.campaignrun import run_due
from models.db import UnitOfWork
from models.rules.points import purchase_points
from models.segments import save_segment
from models.tables import AuditLog, Campaign, CampaignRecipient, Conversation, OutboxMessage
from tests.conftest import say
from tests.groupbuy_helpers import count, english, fetch, member

LINE = ("/campaign new 會員日 segment=all holdout=20% | Hi {{name}} ({{tier}}), try {{buy}}"
        " || Hello {{name}}, {{missing}}")


def segment(console: ConsoleChannel, name: str, rule: str) -> None:
    community_id = member(console, "leader").community_id
    with UnitOfWork(console.deps.sessions) as uow:
        save_segment(uow.session, community_id=community_id, name=name, rule_text=rule, by=None,
                     now=console.deps.clock())
        uow.commit()


def shop(console: ConsoleChannel) -> None:
    """Leader, amy and bob in English and reachable in private; cat only in the group."""
    english(console, "leader", "amy", "bob")
    say(console, "cat@demo: hello everyone")
    segment(console, "all", "orders>=0")
    segment(console, "big", "orders>=5")


def test_a_one_line_campaign_is_saved_listed_previewed_sent_once_and_reported(console, clock):
    shop(console)
    say(console, "leader@demo: /open 有機蘋果 | 350 | 100 | 2h | 水果")
    out = say(console, f"leader: {LINE}")
    assert "Campaign 會員日 saved: segment all (4 members now), A/B test, 20 % held back." in out[0]
    assert "Sends 2026-03-10 12:00." in out[0]
    listed = say(console, "leader: /campaigns")[0]
    assert "會員日 – scheduled, segment all, next 2026-03-10 12:00" in listed
    preview = "\n".join(say(console, "leader: /campaign preview 會員日"))
    assert "variant A" in preview and "try #1 有機蘋果 NT$350" in preview
    assert "variant B" in preview and "more to reach" in preview
    assert run_due(console.deps) == 1
    assert run_due(console.deps) == 0
    recipients = fetch(console, select(CampaignRecipient))
    assert len(recipients) == 4
    sent = fetch(console, select(OutboxMessage).where(OutboxMessage.kind == "promotion"))
    assert len(sent) == sum(1 for r in recipients if r.outbox_key)
    cat = member(console, "cat")
    assert all(r.skipped == "unreachable" for r in recipients if r.member_id == cat.id
               and r.variant != "H")
    listed = say(console, "leader: /campaigns")[0]
    assert "會員日 – finished" in listed and "sent 1×" in listed
    report = say(console, "leader: /campaign report 會員日")[0]
    assert "會員日 (1 send)" in report and "bought 0 (0.0 %)" in report


def test_a_purchase_after_the_send_converts_and_earns_the_campaign_multiplier(console, clock):
    shop(console)
    say(console, "leader@demo: /open 有機蘋果 | 350 | 100 | 2h | 水果")
    say(console, "leader: /campaign new 雙倍 segment=all multiplier=2 | Hi {{name}}: {{buy}} x2 points")
    run_due(console.deps)
    amy, cat = member(console, "amy"), member(console, "cat")
    clock.advance(minutes=5)
    say(console, "amy@demo: +1", "cat@demo: +1", "leader@demo: /delivered all")
    assert member(console, "amy").points_balance == purchase_points(35_000, 1_000, 100, 200)
    assert member(console, "cat").points_balance == purchase_points(35_000, 1_000, 100, 100)
    assert amy.points_balance == cat.points_balance == 0
    report = say(console, "leader: /campaign report 雙倍")[0]
    assert "A: 4 members, sent 3, reached 3, unreachable 1, bought 2 (50.0 %), revenue NT$700" in report


def test_a_purchase_after_the_window_does_not_count(console, clock):
    shop(console)
    say(console, "leader@demo: /open 有機蘋果 | 350 | 100 | 10d | 水果")
    say(console, "leader: /campaign new 晚 segment=all multiplier=3 | Hi {{name}}")
    run_due(console.deps)
    clock.advance(days=8)
    say(console, "amy@demo: +1")
    assert "bought 0" in say(console, "leader: /campaign report 晚")[0]


def test_a_campaign_step_by_step_asks_each_answer_again_until_it_is_right(console, clock):
    shop(console)
    steps = ["/campaign new", "春季", "nobody", "all", "Hi {{nickname}}", "Hi {{name}}", "-",
             "0%", "10%", "2026-03-09 10:00", "month:8@10:00", "9", "2"]
    out = [say(console, f"leader: {text}") for text in steps]
    assert "(1/7) Send the campaign's name" in out[0][0]
    assert "There is no segment called nobody." in out[2][0]
    assert "I do not know the placeholder {{nickname}}" in out[4][0]
    assert "The holdout must be 1–90 %" in out[7][0]
    assert "has already passed" in out[9][0]
    assert "The points multiplier must be ×1 to ×5" in out[11][0]
    assert "Campaign 春季 saved" in out[12][0]
    assert "Repeats (month:8@10:00); first send 2026-04-08 10:00" in out[12][0]
    assert count(console, Conversation) == 0
    saved = fetch(console, select(Campaign))
    assert [(c.holdout_pct, c.multiplier_pct, c.message_b) for c in saved] == [(10, 200, None)]


def test_cancel_stops_a_guided_campaign_with_nothing_saved(console):
    shop(console)
    say(console, "leader: /campaign new", "leader: 春季")
    assert say(console, "leader: /cancel") == ["bot -> leader: Stopped: no campaign was saved."]
    assert count(console, Campaign) == 0


def test_bad_campaigns_are_answered_and_nothing_is_saved(console, clock):
    shop(console)
    answers = {
        "/campaign new x segment=big | hi":
            "Segment big has no members right now: nothing to send, nothing saved.",
        "/campaign new x segment=nobody | hi": "There is no segment called nobody.",
        "/campaign new x segment=all at=2026-03-09T10:00 | hi": "2026-03-09 10:00 has already passed",
        "/campaign new x segment=all holdout=0% | hi": "The holdout must be 1–90 %",
        "/campaign new x segment=all holdout=100% | hi": "The holdout must be 1–90 %",
        "/campaign new x segment=all | hi {{nickname}}": "I do not know the placeholder {{nickname}}",
        "/campaign new x segment=all | {{ name.__class__ }}": "Only placeholders are allowed",
        "/campaign new x segment=all | {% for i in range(9) %}x{% endfor %}": "Only placeholders are allowed",
        "/campaign new x segment=all | " + "好" * 1_500:
            "The message is too long (1500 characters; at most 1000).",
        "/campaign new x segment=all colour=red | hi": "I do not know the option “colour=red”",
        "/campaign new x segment=all every=month:40@10:00 | hi": "is no schedule",
        "/campaign frobnicate": "Usage:",
        "/campaign cancel nothing": "There is no campaign called nothing.",
    }
    for line, expected in answers.items():
        out = say(console, f"leader: {line}")
        assert len(out) == 1 and expected in out[0], (line, out)
    assert say(console, "leader: /campaign new x segment=all | " + "好" * 5_000)  # too long to read
    assert count(console, Campaign) == 0


def test_a_member_may_not_run_campaigns_and_the_refusal_is_audited(console):
    shop(console)
    for line in ("/campaign new x segment=all | hi", "/campaigns", "/campaign report x"):
        assert say(console, f"amy: {line}") == [
            "bot -> amy: Only the group leader or an admin can do that."]
    refused = fetch(console, select(AuditLog).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
    assert [a.action for a in refused] == ["campaign", "campaigns", "campaign"]
    assert count(console, Campaign) == 0


def test_a_finished_campaign_cannot_be_cancelled_a_scheduled_one_can(console, clock):
    shop(console)
    say(console, "leader: /campaign new 一次 segment=all | hi {{name}}")
    say(console, "leader: /campaign new 之後 segment=all at=2026-03-20T10:00 | hi {{name}}")
    run_due(console.deps)
    assert "has already finished: nothing changed" in say(console, "leader: /campaign cancel 一次")[0]
    assert say(console, "leader: /campaign cancel 之後") == [
        "bot -> leader: Campaign 之後 cancelled: nothing more will be sent."]
    clock.advance(days=11)
    assert run_due(console.deps) == 0
    assert "was already cancelled" in say(console, "leader: /campaign cancel 之後")[0]


def test_a_monthly_campaign_runs_on_its_day_and_a_missed_run_is_caught_up_once(console, clock):
    shop(console)
    say(console, "leader: /campaign new 會員日 segment=all every=month:8@10:00 | hi {{name}}")
    clock.advance(days=29)  # April 8th, 12:00 Taipei: the run at 10:00 is due
    assert run_due(console.deps) == 1
    clock.advance(days=92)  # July 9th: May, June and July's runs were missed
    assert run_due(console.deps) == 1
    assert run_due(console.deps) == 0
    found = fetch(console, select(Campaign))[0]
    assert found.runs == 2 and found.status == "running"
    assert found.next_run_at.isoformat().startswith("2026-08-08T02:00")
    promotions = fetch(console, select(OutboxMessage).where(OutboxMessage.kind == "promotion"))
    keys = {o.dedupe_key for o in promotions}
    assert len(keys) == 2 * 3  # three reachable members, two runs


def test_the_weekly_cap_and_opt_out_hold_for_campaigns(console, clock):
    shop(console)
    say(console, "bob: /optout")
    for n in range(4):
        say(console, f"leader: /campaign new c{n} segment=all | hi {{{{name}}}} {n}")
        run_due(console.deps)
    amy, bob = member(console, "amy"), member(console, "bob")
    pushes = fetch(console, select(OutboxMessage.member_id).where(OutboxMessage.kind == "promotion"))
    assert pushes.count(amy.id) == 3  # the weekly cap
    assert pushes.count(bob.id) == 0
    skipped = fetch(console, select(CampaignRecipient.skipped).where(CampaignRecipient.member_id == bob.id))
    assert set(skipped) == {"opted out"}


def test_a_leader_defines_the_segment_and_the_campaign_in_the_chat(console, clock):
    english(console, "leader", "amy", "bob")
    out = say(console, "leader: /segment new 都要 orders>=0")
    assert out and "都要" in out[0]
    created = say(console, "leader: /campaign new 早安 segment=都要 | Good morning {{name}}!")
    assert "Campaign 早安 saved: segment 都要 (3 members now)." in created[0]
    assert run_due(console.deps) == 1
    texts = sorted(o.body["text"] for o in fetch(console, select(OutboxMessage)
                                                   .where(OutboxMessage.kind == "promotion")))
    assert texts == ["Good morning amy!", "Good morning bob!", "Good morning leader!"]
