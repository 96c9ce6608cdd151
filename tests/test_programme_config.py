"""Programme configuration: `/config set KEY VALUE` in chat and `tuanbot config export|import`
as TOML, one validation for both, every change audited with its old and new value."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import config_file
from bot.app import App
from models import configuration
from models.config_keys import ConfigInvalid, nested, view
from models.programme import programme_from
from models.tables import AuditLog, Community
from tests.conftest import say
from tests.groupbuy_helpers import session_of


def problems(changes, stored=None, zone="Asia/Taipei"):
    with pytest.raises(ConfigInvalid) as raised:
        configuration.apply(stored, zone, changes)
    return {(p.key, p.code) for p in raised.value.problems}


def test_a_change_in_dollars_is_stored_in_minor_units_and_reported_as_written():
    config, zone, changed = configuration.apply({}, "Asia/Taipei", {"tiers.gold.min_spend": 9000})
    assert programme_from(config).tiers[2].min_spend == 900_000
    assert changed == [("tiers.gold.min_spend", 8000, 9000)] and zone == "Asia/Taipei"


def test_tier_thresholds_must_increase():
    assert problems({"tiers.gold.min_spend": 2000}) == {("tiers.gold.min_spend", "not_increasing")}
    assert problems({"tiers.diamond.min_invites": 2}) == {("tiers.diamond.min_invites", "not_increasing")}


def test_a_commission_cap_below_the_level_one_rate_is_refused():
    assert problems({"commission_cap_pct": 9}) == {("commission_cap_pct", "cap_below_level1")}
    assert problems({"commission_ladder": [[0, 5], [100, 20]]}) == {
        ("commission_cap_pct", "cap_below_level1")}


def test_negative_rates_wrong_types_and_unknown_keys_are_named():
    assert problems({"commission_level2_pct": -1}) == {("commission_level2_pct", "negative")}
    assert problems({"tiers.gold.discount_pct": "ninety"}) == {("tiers.gold.discount_pct", "wrong_type")}
    assert problems({"frequency_cap_per_week": True}) == {("frequency_cap_per_week", "wrong_type")}
    assert problems({"quiet_hours.start": "25:00"}) == {("quiet_hours.start", "wrong_type")}
    assert problems({"tiers.platinum.min_spend": 5}) == {("tiers.platinum.min_spend", "unknown_key")}
    assert problems({"nope": 1}) == {("nope", "unknown_key")}


def test_more_than_two_commission_levels_is_refused_by_name():
    assert problems({"commission_level3_pct": 1}) == {("commission_level3_pct", "too_many_levels")}
    assert problems({}, stored={"commission_levels": 3}) == {("commission_levels", "too_many_levels")}


def test_an_unknown_time_zone_is_refused():
    assert problems({"timezone": "Mars/Olympus"}) == {("timezone", "unknown_timezone")}
    assert configuration.apply({}, "Asia/Taipei", {"timezone": "Asia/Shanghai"})[1] == "Asia/Shanghai"


def test_every_problem_of_a_file_is_reported_at_once():
    found = problems({"quiet_hours.start": 7, "tiers.gold.min_spend": 10, "commission_cap_pct": 3})
    assert {key for key, _ in found} == {"quiet_hours.start", "tiers.gold.min_spend", "commission_cap_pct"}


def test_the_leader_view_round_trips_through_toml():
    flat = view({}, "Asia/Taipei")
    import tomli_w

    again = tomllib.loads(tomli_w.dumps(nested(flat)))
    config, _, changed = configuration.apply({}, "Asia/Taipei", config_file_flat(again))
    assert changed == [] and programme_from(config) == programme_from({})


def config_file_flat(tree):
    from models.config_keys import flatten

    return flatten(tree)


def audit_rows(app: App, action: str = "config") -> list[AuditLog]:
    with session_of(app) as session:
        return list(session.execute(select(AuditLog).where(AuditLog.action == action)
                                    .order_by(AuditLog.id)).scalars())


def test_the_owner_sets_a_key_in_chat_and_it_is_audited_with_old_and_new(console, app):
    out = say(console, "leader@demo: /config set tiers.gold.min_spend 9000")
    assert out == ["bot -> leader@demo: 已修改：\ntiers.gold.min_spend：8000 → 9000"]
    row = audit_rows(app)[-1]
    assert (row.detail, row.old_value, row.new_value, row.allowed) == (
        "tiers.gold.min_spend", "8000", "9000", True)
    assert "金：消費滿 NT$9,000" in say(console, "leader@demo: /config")[0]


def test_the_other_keys_of_the_issue(console, app):
    out = say(console, "leader@demo: /config set quiet_hours.start 22:30",
              "leader@demo: /config set frequency_cap_per_week 2",
              "leader@demo: /config set commission_cap_pct 12",
              "leader@demo: /config set timezone Asia/Shanghai")
    assert "22:00 → 22:30" in out[0] and "3 → 2" in out[1]
    more = say(console, "leader@demo: /config set member_cap 30",
               "leader@demo: /config set commission_ladder 0:5,10000:8,30000:11",
               "leader@demo: /config set tiers.gold.min_invites none")
    assert more == ["bot -> leader@demo: 已修改：\nmember_cap：20 → 30",
                    "bot -> leader@demo: 已修改：\ncommission_ladder：0:5,10000:8,30000:10 → "
                    "0:5,10000:8,30000:11",
                    "bot -> leader@demo: 已修改：\ntiers.gold.min_invites：3 → 無"]
    ladder = [r for r in audit_rows(app) if r.detail == "commission_ladder"][0]
    assert (ladder.old_value, ladder.new_value) == ("0:5,10000:8,30000:10", "0:5,10000:8,30000:11")
    assert "本來就是這個值" in out[2] and "Asia/Taipei → Asia/Shanghai" in out[3]
    with session_of(app) as session:
        community = session.execute(select(Community)).scalar_one()
        assert community.timezone == "Asia/Shanghai"
        assert programme_from(community.programme).frequency_cap_per_week == 2


def test_bad_values_get_a_clear_answer_in_each_language_and_change_nothing(console, app):
    say(console, "leader: /start")
    hant = say(console, "leader@demo: /config set tiers.gold.min_spend 100")
    say(console, "leader: /lang en")
    en = say(console, "leader@demo: /config set commission_cap_pct 5",
             "leader@demo: /config set timezone Mars/Olympus",
             "leader@demo: /config set nope 1", "leader@demo: /config set pickup_days -3",
             "leader@demo: /config set quiet_hours.start 9pm", "leader@demo: /config set x")
    say(console, "leader: /lang zh-Hans")
    hans = say(console, "leader@demo: /config set commission_level3_pct 1")
    assert hant == ["bot -> leader: 沒有修改：\n- tiers.gold.min_spend：100 必須高於前一級（3000）"]
    assert "a cap of 5% is below the level-1 rate of 10%" in en[0]
    assert "“Mars/Olympus” is not a time zone" in en[1]
    assert "nope is not a setting" in en[2]
    assert "pickup_days: -3 is negative" in en[3]
    assert "“9pm” is not a time like 22:30" in en[4]
    assert en[5].startswith("bot -> leader: Usage: /config")
    assert hans == ["bot -> leader: 没有修改：\n"
                    "- commission_level3_pct：分销佣金最多两级（三级以上属于传销）"]
    with session_of(app) as session:
        assert session.execute(select(Community)).scalar_one().programme == {}
    refused = [r for r in audit_rows(app) if not r.allowed]
    assert len(refused) == 8 and all("/config set" in r.detail for r in refused)


def test_only_the_owner_may_change_settings(console, app):
    say(console, "leader@demo: /config set pickup_days 5", "bob@demo: hello",
        "leader@demo: /admin add @bob")
    out = say(console, "bob@demo: /config set pickup_days 4", "amy@demo: /config set pickup_days 4",
              "bob@demo: /config")
    assert out[0] == "bot -> bob@demo: 只有團主本人可以使用這個指令。"
    assert out[1] == "bot -> amy@demo: 只有團主或管理員可以使用這個指令。"
    assert "會員方案" in out[2]  # an admin reads them
    assert [(r.allowed, r.new_value) for r in audit_rows(app)] == [(True, "5"), (False, None),
                                                                    (False, None)]


def test_export_then_import_changes_only_what_the_file_changes(app: App, tmp_path: Path):
    text = config_file.export(app.deps.sessions, "demo")
    assert 'timezone = "Asia/Taipei"' in text and "[tiers.gold]" in text
    edited = text.replace("min_spend = 8000", "min_spend = 9500").replace('start = "22:00"',
                                                                           'start = "22:30"')
    (tmp_path / "programme.toml").write_text(edited, encoding="utf-8")
    changed = config_file.import_file(app.deps.sessions, "demo", tmp_path / "programme.toml",
                                      app.deps.clock(), app.deps.renderer)
    assert changed == [("quiet_hours.start", "22:00", "22:30"), ("tiers.gold.min_spend", 8000, 9500)]
    again = config_file.import_file(app.deps.sessions, "demo", tmp_path / "programme.toml",
                                    app.deps.clock(), app.deps.renderer)
    assert again == []
    assert [(r.actor, r.detail, r.old_value, r.new_value) for r in audit_rows(app)] == [
        ("cli:programme.toml", "quiet_hours.start", "22:00", "22:30"),
        ("cli:programme.toml", "tiers.gold.min_spend", "8000", "9500")]


@pytest.mark.parametrize(("content", "says"), [
    (b"commission_cap_pct = 3\n[tiers.gold]\nmin_spend = 10\n",
     "commission_cap_pct: a cap of 3% is below the level-1 rate of 10%"),
    (b"[tiers.gold]\nmin_spend = 10\n", "tiers.gold.min_spend: 10 must be above"),
    (b"distribution_levels = 3\ncommission_level3_pct = 1\n", "at most two levels of commission"),
    (b"timezone = 'Nowhere/Land'\n", "is not a time zone"),
    (b"colour = 'red'\n", "colour is not a setting"),
    (b"frequency_cap_per_week = '2'\n", "is not a whole number"),
    (b"this is = not toml [", "is not valid TOML"),
    ("pickup_days = 3 # 三天\n".encode("big5"), "is not UTF-8 text"),
])
def test_a_bad_file_is_refused_whole_with_its_reasons(app: App, tmp_path: Path, content, says):
    path = tmp_path / "programme.toml"
    path.write_bytes(b"pickup_days = 9\n" + content)
    with pytest.raises(config_file.ConfigFileError) as raised:
        config_file.import_file(app.deps.sessions, "demo", path, app.deps.clock(), app.deps.renderer)
    assert says in str(raised.value)
    with session_of(app) as session:
        assert session.execute(select(Community)).scalar_one().programme == {}


def test_the_command_line_exports_and_imports(tmp_path: Path):
    env = {"TUANBOT_HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parent.parent),
           "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "bot.cli", "config"]
    exported = subprocess.run([*run, "export", "demo"], env=env, capture_output=True, text=True,
                              check=True)
    (tmp_path / "p.toml").write_text(exported.stdout.replace("pickup_days = 3", "pickup_days = 4"),
                                     encoding="utf-8")
    imported = subprocess.run([*run, "import", "demo", str(tmp_path / "p.toml")], env=env,
                              capture_output=True, text=True)
    assert imported.returncode == 0 and "pickup_days: 3 -> 4" in imported.stdout
    (tmp_path / "bad.toml").write_text("pickup_days = 0\n", encoding="utf-8")
    refused = subprocess.run([*run, "import", "demo", str(tmp_path / "bad.toml")], env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "pickup_days: 0 is outside 1 to 60" in refused.stderr


def test_the_automation_keys_are_settings_too(console, app):
    out = say(console, "leader@demo: /config set automations.winback.on off",
              "leader@demo: /config set automations.winback.days 45",
              "leader@demo: /config set automations.welcome.coupon 80",
              "leader@demo: /config set automations.welcome.on maybe",
              "leader@demo: /config set interest_tags.min_purchases 0")
    assert out[:3] == ["bot -> leader@demo: 已修改：\nautomations.winback.on：on → off",
                       "bot -> leader@demo: 已修改：\nautomations.winback.days：60 → 45",
                       "bot -> leader@demo: 已修改：\nautomations.welcome.coupon：50 → 80"]
    assert "「maybe」不是on 或 off（開／關）" in out[3]
    assert "interest_tags.min_purchases：0 要在 1 到 1000 之間" in out[4]
    with session_of(app) as session:
        plan = programme_from(session.execute(select(Community)).scalar_one().programme).automations
    assert (plan.winback, plan.winback_days, plan.welcome_coupon) == (False, 45, 8_000)


@given(cap=st.integers(0, 100), pickup=st.integers(1, 60), gold=st.integers(3001, 19_999),
       start=st.times().map(lambda t: t.strftime("%H:%M")), level2=st.integers(0, 100))
@settings(max_examples=40, deadline=None)
def test_any_valid_change_survives_an_export_and_an_import(cap, pickup, gold, start, level2):
    import tomli_w

    changes = {"frequency_cap_per_week": cap, "pickup_days": pickup, "tiers.gold.min_spend": gold,
               "quiet_hours.start": start, "commission_level2_pct": level2}
    config, zone, _ = configuration.apply({}, "Asia/Taipei", changes)
    text = tomli_w.dumps(nested(view(config, zone)))
    again, zone_again, changed = configuration.apply({}, "Asia/Taipei",
                                                     config_file_flat(tomllib.loads(text)))
    assert programme_from(again) == programme_from(config) and zone_again == zone
    assert {key for key, _, _ in changed} <= set(changes)
