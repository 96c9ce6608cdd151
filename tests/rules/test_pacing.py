"""Platform pacing: 1/s per chat, 20/min per group, 30/s for the whole bot."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from models.rules.pacing import Limits, next_slot

NOW = datetime(2026, 3, 1, 12, 0, 0)
S = timedelta(seconds=1)


def test_a_quiet_chat_can_be_sent_to_now():
    assert next_slot(NOW, [], [], is_group=False) == NOW
    assert next_slot(NOW, [], [], is_group=True) == NOW


def test_a_private_chat_gets_at_most_one_message_a_second():
    last = NOW - S / 2
    assert next_slot(NOW, [last], [last], is_group=False) == last + S


def test_a_private_chat_is_free_again_a_full_second_later():
    last = NOW - S
    assert next_slot(NOW, [last], [last], is_group=False) == NOW


def test_a_group_takes_at_most_twenty_messages_a_minute():
    sent = [NOW - timedelta(seconds=40) + i * S for i in range(20)]  # 20 sends, 1/s
    assert next_slot(NOW, sent, sent, is_group=True) == sent[0] + timedelta(minutes=1)


def test_twenty_messages_a_minute_does_not_apply_to_private_chats():
    sent = [NOW - timedelta(seconds=40) + i * S for i in range(20)]
    assert next_slot(NOW, sent, sent, is_group=False) == NOW


def test_a_group_also_gets_at_most_one_message_a_second():
    last = NOW - S / 4
    assert next_slot(NOW, [last], [last], is_group=True) == last + S


def test_the_bot_sends_at_most_thirty_messages_a_second():
    bot = [NOW - S / 2 + i * timedelta(milliseconds=10) for i in range(30)]
    assert next_slot(NOW, bot, [], is_group=False) == bot[0] + S


def test_only_the_last_sends_count_however_far_back_the_history_goes():
    bot = [NOW - timedelta(hours=1) + i * S for i in range(100)] + [NOW - S / 2]
    assert next_slot(NOW, bot, [], is_group=False) == NOW


def test_next_slot_is_never_earlier_than_now():
    old = [NOW - timedelta(hours=2)] * 40
    assert next_slot(NOW, old, old, is_group=True) == NOW


LIMITS = Limits()


def most_in_any_window(times: list[datetime], window: timedelta) -> int:
    """The most sends in any half-open window (t - window, t]."""
    return max((sum(1 for s in times if t - window < s <= t) for t in times), default=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3_000), st.integers(0, 4)),  # ms after previous, chat id
        max_size=80,
    )
)
def test_replayed_sends_never_break_a_limit(requests):
    groups = {0, 1}
    now, bot, chats = NOW, [], {c: [] for c in range(5)}
    for gap_ms, chat in requests:
        now = max(now + timedelta(milliseconds=gap_ms), bot[-1] if bot else now)
        slot = next_slot(now, bot, chats[chat], is_group=chat in groups)
        assert slot >= now
        bot.append(slot)
        chats[chat].append(slot)
    assert most_in_any_window(bot, LIMITS.per_bot_window) <= LIMITS.per_bot
    for chat, times in chats.items():
        assert most_in_any_window(times, LIMITS.per_chat_window) <= LIMITS.per_chat
        if chat in groups:
            assert most_in_any_window(times, LIMITS.per_group_window) <= LIMITS.per_group
