"""Which open group buy a member is shown: own history first (respecting the consumption
cycle), then co-purchases, never one already joined, else the most-joined open buy."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from models.rules.recommend import Bought, OpenBuy, Recommender, product_key, recommend

TODAY = date(2026, 3, 10)
APPLES = OpenBuy(1, 1, "有機蘋果", "水果", joined=5)
PEARS = OpenBuy(2, 2, "水梨", "水果", joined=9)
DIAPERS = OpenBuy(3, 3, "尿布 M", "母嬰", joined=2)
WIPES = OpenBuy(4, 4, "濕紙巾", "母嬰", joined=1)
TEA = OpenBuy(5, 5, "烏龍茶", "飲品", joined=30)
OPEN = (APPLES, PEARS, DIAPERS, WIPES, TEA)
NOTHING: dict[str, dict[str, int]] = {}


def bought(buy: OpenBuy, due_on: date | None = None) -> Bought:
    return Bought(buy.product, buy.category, due_on)


def test_a_member_due_for_a_product_is_shown_that_product_again():
    history = [bought(DIAPERS, TODAY - timedelta(days=1))]
    assert recommend(OPEN, history, set(), NOTHING, TODAY) == DIAPERS


def test_a_product_due_today_counts_as_due():
    assert recommend(OPEN, [bought(DIAPERS, TODAY)], set(), NOTHING, TODAY) == DIAPERS


def test_a_product_without_a_consumption_cycle_is_always_due():
    assert recommend(OPEN, [bought(WIPES, None)], set(), NOTHING, TODAY) == WIPES


def test_a_product_not_yet_used_up_is_not_recommended_even_as_the_most_joined():
    history = [bought(TEA, TODAY + timedelta(days=3))]
    assert recommend(OPEN, history, set(), NOTHING, TODAY) == PEARS


def test_the_same_product_comes_before_the_same_category():
    history = [bought(APPLES, TODAY - timedelta(days=2))]  # pears are more joined, same category
    assert recommend(OPEN, history, set(), NOTHING, TODAY) == APPLES


def test_another_product_of_a_category_the_member_buys_comes_next():
    older_diapers = OpenBuy(9, 9, "尿布 L", "母嬰", joined=0)  # bought before, not open now
    history = [Bought(older_diapers.product, "母嬰", TODAY - timedelta(days=5))]
    assert recommend(OPEN, history, set(), NOTHING, TODAY) == DIAPERS  # more joined than wipes


def test_a_category_still_stocked_at_home_waits_for_its_cycle():
    closed = OpenBuy(9, 9, "尿布 L", "母嬰", joined=0)
    history = [Bought(closed.product, "母嬰", TODAY + timedelta(days=10))]
    assert recommend(OPEN, history, set(), NOTHING, TODAY) == TEA


def test_a_buy_the_member_already_joined_is_never_recommended():
    history = [bought(DIAPERS, TODAY - timedelta(days=1))]
    assert recommend(OPEN, history, {DIAPERS.buy_id}, NOTHING, TODAY) == WIPES


def test_what_members_who_bought_the_same_also_bought_comes_after_own_history():
    history = [Bought("嬰兒米餅", "零食", TODAY - timedelta(days=1))]
    co = {"嬰兒米餅": {DIAPERS.product: 40, WIPES.product: 60}}
    assert recommend(OPEN, history, set(), co, TODAY) == WIPES


def test_co_purchase_counts_add_up_over_the_members_products():
    history = [Bought("米餅", "零食", None), Bought("奶粉", "奶品", None)]
    co = {"米餅": {DIAPERS.product: 30, WIPES.product: 20}, "奶粉": {WIPES.product: 20}}
    assert recommend(OPEN, history, set(), co, TODAY) == WIPES


def test_without_any_history_the_most_joined_open_buy_is_recommended():
    assert recommend(OPEN, [], set(), NOTHING, TODAY) == TEA


def test_equally_joined_buys_go_to_the_lowest_number():
    twins = (OpenBuy(7, 7, "b", "", joined=3), OpenBuy(6, 6, "a", "", joined=3))
    assert recommend(twins, [], set(), NOTHING, TODAY) == twins[1]


def test_nothing_is_recommended_when_every_open_buy_was_joined():
    assert recommend(OPEN, [], {b.buy_id for b in OPEN}, NOTHING, TODAY) is None


def test_nothing_is_recommended_when_nothing_is_open():
    assert recommend((), [bought(APPLES)], set(), NOTHING, TODAY) is None


def test_the_same_product_is_recognised_across_spacing_and_case():
    assert product_key("  Organic   Apples ") == product_key("organic apples")


buys = st.lists(st.builds(OpenBuy, st.integers(1, 20), st.integers(1, 20),
                          st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["", "x", "y"]),
                          st.integers(0, 50)), max_size=8)
histories = st.lists(st.builds(Bought, st.sampled_from(["a", "b", "c", "e"]),
                               st.sampled_from(["", "x", "y"]),
                               st.none() | st.dates(date(2026, 1, 1), date(2026, 6, 1))),
                     max_size=6)


@given(buys, histories, st.sets(st.integers(1, 20)))
def test_a_recommendation_is_open_not_joined_and_not_stocked_at_home(open_buys, history, joined):
    found = recommend(open_buys, history, joined, NOTHING, TODAY)
    stocked = {b.product for b in history if b.due_on is not None and b.due_on > TODAY}
    fits = [b for b in open_buys if b.buy_id not in joined and b.product not in stocked]
    if found is None:
        assert fits == []
    else:
        assert found in fits


held = st.tuples(st.sampled_from(["a", "b", "c", "e"]), st.sampled_from(["", "x", "y"]), st.booleans())
co_counts = st.dictionaries(st.sampled_from(["a", "b", "c", "e"]),
                            st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 9)))


@given(buys, st.dictionaries(st.sampled_from("0123456789"), held),
       st.lists(st.sampled_from("0123456789"), max_size=8), st.sets(st.integers(1, 20)), co_counts)
def test_a_history_given_as_codes_gets_the_same_recommendation_as_given_whole(
        open_buys, table, codes, joined, co):
    ranked = Recommender(open_buys, co, table)
    whole = [table[code] for code in codes if code in table]
    assert ranked.pick_coded(codes, ranked.joined_bits(joined)) == ranked.pick(whole, joined)
