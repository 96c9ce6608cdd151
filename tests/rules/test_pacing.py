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


def most_in_any_window(times: list[datetime], window: timedelta) -> int:
    """The most sends in any half-open window (t - window, t]."""
    return max((sum(1 for s in times if t - window < s <= t) for t in times), default=0)


def breaks_a_limit(bot, chat, is_group, limits) -> bool:
    checks = [(bot, limits.per_bot, limits.per_bot_window),
              (chat, limits.per_chat, limits.per_chat_window)]
    if is_group:
        checks.append((chat, limits.per_group, limits.per_group_window))
    return any(most_in_any_window(times, window) > limit for times, limit, window in checks)


small_limits = st.builds(
    Limits,
    per_bot=st.integers(1, 6),
    per_bot_window=st.integers(1, 3).map(lambda n: n * S),
    per_chat=st.integers(1, 3),
    per_chat_window=st.integers(1, 3).map(lambda n: n * S),
    per_group=st.integers(1, 6),
    per_group_window=st.integers(2, 20).map(lambda n: n * S),
)
requests = st.lists(st.tuples(st.integers(0, 1_500), st.integers(0, 5)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.just(Limits()) | small_limits, requests)
def test_replaying_sends_at_next_slot_never_breaks_a_limit(limits, requests):
    groups = {0, 1, 2}
    now, bot, chats = NOW, [], {c: [] for c in range(6)}
    for gap_ms, chat in requests:  # one sender: the clock waits for each send
        now = max(now + timedelta(milliseconds=gap_ms), bot[-1] if bot else now)
        slot = next_slot(now, bot, chats[chat], chat in groups, limits)
        assert slot >= now
        earlier = slot - timedelta(microseconds=1)
        if earlier >= now:  # the slot is the earliest one: a moment sooner breaks a limit
            assert breaks_a_limit(bot + [earlier], chats[chat] + [earlier], chat in groups, limits)
        bot.append(slot)
        chats[chat].append(slot)
        assert not breaks_a_limit(bot, chats[chat], chat in groups, limits)
