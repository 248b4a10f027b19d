"""Stages, probabilities, currency conversion and stage moves (pure functions on dicts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import CrmkitError, UsageError
from crmkit.sales.facts import deal_facts, probability_of
from crmkit.sales.history import deal_as_of, history_of, stage_as_of
from crmkit.sales.moves import apply_move, move_deal, plan_move
from crmkit.sales.pipeline import PipelineConfig, Rates, parse_amount

TZ = ZoneInfo("Europe/Stockholm")
CONFIG = {
    "currency": "SEK",
    "timezone": "Europe/Stockholm",
    "pipeline": {
        "stages": [
            {"name": "lead", "probability": 10, "category": "pipeline"},
            {"name": "qualified", "probability": 25, "category": "pipeline"},
            {"name": "proposal", "probability": 50, "category": "best_case"},
            {"name": "negotiation", "probability": 75, "category": "commit"},
            {"name": "won", "probability": 100, "category": "closed", "won": True},
            {"name": "lost", "probability": 0, "category": "closed", "lost": True},
        ],
        "rates": {"EUR": 11.50, "NOK": "1.02"},
    },
}
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture
def cfg() -> PipelineConfig:
    return PipelineConfig.from_config(CONFIG)


def test_stages_from_config(cfg: PipelineConfig) -> None:
    assert [s.name for s in cfg.stages] == ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    assert [s.name for s in cfg.open_stages] == ["lead", "qualified", "proposal", "negotiation"]
    assert cfg.stage("proposal").probability == Decimal(50)
    assert cfg.stage("proposal").category == "best_case"
    assert cfg.won_stage.name == "won" and cfg.lost_stage.name == "lost"
    assert cfg.currency == "SEK"
    assert cfg.tz == TZ


def test_default_stages_when_config_has_none() -> None:
    cfg = PipelineConfig.from_config({"currency": "EUR"})
    assert cfg.won_stage.name == "won" and cfg.currency == "EUR"


@pytest.mark.parametrize(
    "stages, message",
    [
        ([{"name": "a"}, {"name": "a", "won": True}, {"name": "b", "lost": True}], "listed twice"),
        ([{"name": "a", "category": "maybe"}, {"name": "w", "won": True}, {"name": "l", "lost": True}], "category"),
        ([{"name": "a"}, {"name": "w", "won": True}], "lost: true"),
        ([{"name": "a", "probability": 120}, {"name": "w", "won": True}, {"name": "l", "lost": True}], "0-100"),
    ],
)
def test_bad_stage_config_is_refused(stages: list, message: str) -> None:
    with pytest.raises(CrmkitError, match=message):
        PipelineConfig.from_config({"pipeline": {"stages": stages}})


def test_unknown_stage_lists_the_stages(cfg: PipelineConfig) -> None:
    with pytest.raises(CrmkitError, match="unknown stage 'signed'; stages are: lead, qualified"):
        cfg.stage("signed")


def test_probability_override_and_forced_closed(cfg: PipelineConfig) -> None:
    assert probability_of({"stage": "proposal"}, cfg.stage("proposal")) == 50
    assert probability_of({"stage": "proposal", "probability": 65}, cfg.stage("proposal")) == 65
    assert probability_of({"stage": "won", "probability": 40}, cfg.stage("won")) == 100
    assert probability_of({"stage": "lost", "probability": 40}, cfg.stage("lost")) == 0
    # a nonsense override is ignored, not trusted
    assert probability_of({"probability": 250}, cfg.stage("lead")) == 10


@pytest.mark.parametrize(
    "raw, expected",
    [(120000, Decimal(120000)), ("120000.00", Decimal("120000.00")), ("120 000", Decimal(120000)),
     (0.1, Decimal("0.1")), (None, None), ("", None), ("lots", None), (True, None)],
)
def test_parse_amount(raw: object, expected: Decimal | None) -> None:
    assert parse_amount(raw) == expected


def test_rates_convert_to_workspace_currency() -> None:
    r = Rates("SEK", {"EUR": 11.50, "NOK": "1.02"})
    assert r.convert(Decimal("100"), "EUR") == Decimal("1150.0")
    assert r.convert(Decimal("100"), "NOK") == Decimal("102.00")
    assert r.convert(Decimal("100"), "SEK") == Decimal("100")


def test_rates_cross_rate_to_another_target() -> None:
    r = Rates("SEK", {"EUR": "11.50", "NOK": "1.15"}, target="EUR")
    assert r.convert(Decimal("1150"), "SEK") == Decimal(100)
    assert r.convert(Decimal("1000"), "NOK") == Decimal(100)


def test_missing_rate_is_refused_with_advice() -> None:
    r = Rates("SEK", {"EUR": 11.5})
    with pytest.raises(CrmkitError) as e:
        r.convert(Decimal(1), "HUF", "deals/x.yaml")
    msg = str(e.value)
    assert "cannot add HUF to SEK (deals/x.yaml)" in msg and "pipeline.rates" in msg


def test_report_in_a_currency_without_rate() -> None:
    r = Rates("SEK", {}, target="USD")
    assert r.convert(Decimal(5), "USD") == 5  # one currency throughout: no rate needed
    with pytest.raises(CrmkitError, match="cannot add SEK to USD: crmkit.yaml has no exchange rate for USD"):
        r.convert(Decimal(5), "SEK")


def test_deal_facts(cfg: PipelineConfig) -> None:
    rates = cfg.rates_to()
    f = deal_facts("x", {"title": "X", "stage": "proposal", "value": "1000.50", "currency": "EUR",
                         "expected_close": "2026-12-01", "owner": "karin"}, cfg, rates)
    assert f.value == Decimal("11505.750") and f.currency == "EUR"
    assert f.weighted == Decimal("5752.875")
    assert f.expected_close == dt.date(2026, 12, 1)
    warnings: list[str] = []
    g = deal_facts("y", {"stage": "mystery", "value": "n/a"}, cfg, rates, warnings)
    assert g.value is None and g.is_open and g.probability == 0
    assert any("unknown stage 'mystery'" in w for w in warnings)
    assert any("not a number" in w for w in warnings)


# --------------------------------------------------------------------------- moves


def test_move_appends_history(cfg: PipelineConfig) -> None:
    deal = {"title": "X", "stage": "lead", "stage_history": [{"stage": "lead", "at": "2026-11-01T09:00:00+01:00", "by": "daniel"}]}
    out = move_deal("x", deal, "proposal", cfg, NOW, by="karin")
    assert out["stage"] == "proposal"
    assert out["stage_history"][-1] == {"stage": "proposal", "at": NOW, "from": "lead", "by": "karin"}
    assert len(out["stage_history"]) == 2
    assert len(deal["stage_history"]) == 1  # the input is not changed


def test_move_to_won_sets_close_date_and_forces_probability(cfg: PipelineConfig) -> None:
    deal = {"stage": "negotiation", "probability": 80}
    out = move_deal("x", deal, "won", cfg, NOW, by="daniel")
    assert out["closed"] == dt.date(2026, 11, 23)
    assert out["probability"] == 100
    out = move_deal("x", deal, "won", cfg, NOW, close_date=dt.date(2026, 11, 20))
    assert out["closed"] == dt.date(2026, 11, 20)


def test_move_without_probability_field_adds_none(cfg: PipelineConfig) -> None:
    out = move_deal("x", {"stage": "negotiation"}, "won", cfg, NOW)
    assert "probability" not in out


def test_lost_requires_reason(cfg: PipelineConfig) -> None:
    with pytest.raises(UsageError, match="needs a reason"):
        plan_move("x", {"stage": "proposal"}, "lost", cfg, NOW)
    out = move_deal("x", {"stage": "proposal", "probability": 60}, "lost", cfg, NOW, reason="price too high")
    assert out["lost_reason"] == "price too high" and out["probability"] == 0
    assert out["stage_history"][-1]["reason"] == "price too high"


def test_close_date_rules(cfg: PipelineConfig) -> None:
    with pytest.raises(UsageError, match="in the future"):
        plan_move("x", {"stage": "lead"}, "won", cfg, NOW, close_date=dt.date(2026, 12, 1))
    with pytest.raises(UsageError, match="only for a won or lost"):
        plan_move("x", {"stage": "lead"}, "proposal", cfg, NOW, close_date=dt.date(2026, 11, 1))
    with pytest.raises(UsageError, match="before the deal was created"):
        plan_move("x", {"stage": "lead", "created": "2026-11-10T09:00:00+01:00"}, "won", cfg, NOW,
                  close_date=dt.date(2026, 11, 1))


def test_reopen_keeps_history_and_clears_closing_fields(cfg: PipelineConfig) -> None:
    deal = move_deal("x", {"stage": "proposal", "probability": 60}, "lost", cfg, NOW, reason="budget")
    later = NOW + dt.timedelta(days=3)
    back = move_deal("x", deal, "negotiation", cfg, later, by="daniel")
    assert back["stage"] == "negotiation"
    assert "closed" not in back and "lost_reason" not in back
    assert "probability" not in back  # the forced 0 would pin the reopened deal
    assert [h["stage"] for h in back["stage_history"]] == ["lost", "negotiation"]
    assert back["stage_history"][0]["reason"] == "budget"


def test_same_stage_is_a_noop(cfg: PipelineConfig) -> None:
    plan = plan_move("x", {"stage": "proposal"}, "proposal", cfg, NOW)
    assert plan.noop
    d = {"stage": "proposal"}
    apply_move(d, plan)
    assert d == {"stage": "proposal"}


def test_apply_move_keeps_key_order_and_appends(cfg: PipelineConfig) -> None:
    d = {"title": "X", "stage": "lead", "value": 10, "stage_history": [{"stage": "lead", "at": "2026-01-01"}], "custom": 1}
    apply_move(d, plan_move("x", d, "won", cfg, NOW))
    assert list(d) == ["title", "stage", "value", "stage_history", "custom", "closed"]
    assert len(d["stage_history"]) == 2


def test_won_to_lost_directly(cfg: PipelineConfig) -> None:
    d = move_deal("x", {"stage": "negotiation"}, "won", cfg, NOW)
    d = move_deal("x", d, "lost", cfg, NOW, reason="customer withdrew")
    assert d["stage"] == "lost" and d["lost_reason"] == "customer withdrew"


def test_now_must_be_aware(cfg: PipelineConfig) -> None:
    with pytest.raises(ValueError):
        plan_move("x", {"stage": "lead"}, "won", cfg, dt.datetime(2026, 1, 1))


# --------------------------------------------------------------------------- as of


HIST_DEAL = {
    "stage": "won",
    "created": "2026-08-01T10:00:00+02:00",
    "closed": "2026-11-02",
    "probability": 100,
    "stage_history": [
        {"stage": "lead", "at": "2026-08-01T10:00:00+02:00"},
        {"stage": "proposal", "at": "2026-09-01T10:00:00+02:00"},
        {"stage": "won", "at": "2026-11-02T10:00:00+01:00"},
    ],
}


@pytest.mark.parametrize(
    "when, expected",
    [
        ("2026-07-31T23:00:00+02:00", None),
        ("2026-08-01T10:00:00+02:00", "lead"),
        ("2026-08-15T00:00:00+02:00", "lead"),
        ("2026-09-01T10:00:00+02:00", "proposal"),
        ("2026-11-01T23:59:00+01:00", "proposal"),
        ("2026-11-30T00:00:00+01:00", "won"),
    ],
)
def test_stage_as_of(when: str, expected: str | None) -> None:
    assert stage_as_of(HIST_DEAL, dt.datetime.fromisoformat(when), TZ) == expected


def test_deal_as_of_reopens_fields(cfg: PipelineConfig) -> None:
    past = deal_as_of(HIST_DEAL, dt.datetime(2026, 10, 1, tzinfo=TZ), cfg)
    assert past is not None
    assert past["stage"] == "proposal" and "closed" not in past and "probability" not in past
    same = deal_as_of(HIST_DEAL, dt.datetime(2026, 11, 5, tzinfo=TZ), cfg)
    assert same is not None and same["closed"] == "2026-11-02"


def test_as_of_before_first_move_uses_from(cfg: PipelineConfig) -> None:
    d = {"stage": "lead", "created": "2026-10-01T09:00:00+02:00"}
    d = move_deal("x", d, "proposal", cfg, NOW)
    assert stage_as_of(d, dt.datetime(2026, 10, 15, tzinfo=TZ), TZ) == "lead"
    assert stage_as_of(d, NOW, TZ) == "proposal"


def test_as_of_closed_later_without_history_is_unknown(cfg: PipelineConfig) -> None:
    d = {"stage": "won", "closed": "2026-11-02", "probability": 100}
    past = deal_as_of(d, dt.datetime(2026, 10, 1, tzinfo=TZ), cfg)
    assert past == {"stage": "(unknown)"}
    assert deal_as_of(d, dt.datetime(2026, 11, 3, tzinfo=TZ), cfg) == d


def test_history_without_created_or_with_unsorted_entries() -> None:
    d = {"stage": "proposal", "stage_history": [
        {"stage": "proposal", "at": "2026-09-01T10:00:00+02:00"},
        {"stage": "lead", "at": "2026-08-01T10:00:00+02:00"},
        {"stage": "broken"},
    ]}
    assert [h.stage for h in history_of(d, TZ)] == ["lead", "proposal"]
    assert stage_as_of(d, dt.datetime(2026, 7, 1, tzinfo=TZ), TZ) is None
    assert stage_as_of({"stage": "lead"}, dt.datetime(2020, 1, 1, tzinfo=TZ), TZ) == "lead"


@given(
    moves=st.lists(st.sampled_from(["lead", "qualified", "proposal", "negotiation", "won", "lost"]), min_size=1, max_size=12)
)
def test_any_sequence_of_moves_keeps_invariants(moves: list[str]) -> None:
    cfg = PipelineConfig.from_config(CONFIG)
    deal: dict = {"title": "P", "stage": "lead", "probability": 30, "created": "2026-01-01T09:00:00+01:00"}
    t = dt.datetime(2026, 2, 1, 9, tzinfo=TZ)
    entries = 0
    for s in moves:
        before = deal["stage"]
        deal = move_deal("p", deal, s, cfg, t, by="u", reason="r" if s == "lost" else None)
        if s != before:
            entries += 1
        t += dt.timedelta(days=1)
        st_ = cfg.stage(deal["stage"])
        assert deal["stage"] == s
        assert len(deal.get("stage_history", [])) == entries
        if st_.is_closed:
            assert "closed" in deal
            assert probability_of(deal, st_) == (100 if st_.won else 0)
        else:
            assert "closed" not in deal and "lost_reason" not in deal
        if st_.lost:
            assert deal["lost_reason"] == "r"
        assert stage_as_of(deal, t, TZ) == s


def test_a_missing_rate_says_what_the_number_means_without_inventing_one() -> None:
    """The hint once read `rates: {HUF: 11.50}`, about 400 times wrong for forints."""
    from crmkit.errors import CrmkitError

    r = Rates("SEK", {"EUR": "11.50"})
    with pytest.raises(CrmkitError) as exc:
        r.factor("HUF", "deals/x.yaml")
    text = str(exc.value)
    assert "HUF: <how many SEK one HUF is worth>" in text and "11.50" not in text
