"""The champion: most confirmed sales; ties to the earlier first sale, then the lower id."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from models.rules.champions import MONTH, QUARTER, Candidate, champion, ended

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def test_the_most_sales_wins():
    assert champion([Candidate(1, 500, T0), Candidate(2, 900, T0 + timedelta(days=9))]).member_id == 2


def test_equal_sales_go_to_the_earlier_first_sale():
    assert champion([Candidate(1, 500, T0 + timedelta(hours=1)), Candidate(2, 500, T0)]).member_id == 2


def test_equal_sales_at_the_same_moment_go_to_the_lower_member_number():
    assert champion([Candidate(7, 500, T0), Candidate(3, 500, T0)]).member_id == 3


def test_nobody_with_sales_is_no_champion():
    assert champion([]) is None
    assert champion([Candidate(1, 0, T0), Candidate(2, -100, T0)]) is None


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(-5, 5), st.integers(0, 3)),
                min_size=1, max_size=12, unique_by=lambda c: c[0]))
def test_the_champion_does_not_depend_on_the_order_candidates_come_in(rows):
    people = [Candidate(m, s * 100, T0 + timedelta(hours=h)) for m, s, h in rows]
    picked = champion(people)
    assert picked == champion(list(reversed(people))) == champion(sorted(people, key=str))
    if picked is not None:
        assert all(picked.sales >= c.sales for c in people)


def test_on_the_first_of_a_month_the_month_before_ends():
    [month] = ended(date(2026, 3, 1))
    assert (month.kind, month.label, month.months) == (MONTH, "2026-02", ("2026-02",))


def test_on_the_first_of_a_quarter_the_quarter_before_ends_too():
    month, quarter = ended(date(2026, 4, 1))
    assert month.label == "2026-03"
    assert (quarter.kind, quarter.label, quarter.months) == (
        QUARTER, "2026-Q1", ("2026-01", "2026-02", "2026-03"))


def test_in_january_last_years_december_and_fourth_quarter_end():
    month, quarter = ended(date(2027, 1, 1))
    assert (month.label, quarter.label, quarter.months[0]) == ("2026-12", "2026-Q4", "2026-10")
