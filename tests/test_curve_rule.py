"""CurveRule: options, decisions on hand-made views, and its guards (never a promotable job)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperband
from hyperband import CurveRule, Job, Peer, StopView
from hyperband.core.stopping import make_rule, rule_spec

Curve = tuple[tuple[float, float], ...]


def _view(
    curve: Curve,
    peers: tuple[Peer, ...],
    *,
    k: int = 3,
    budget: float = 27,
    config_id: int = 0,
    previous: float | None = None,
) -> StopView:
    job = Job(0, {}, config_id, budget, 3, 0 if previous is None else 1, 0, previous)
    step, loss = curve[-1]
    return StopView(
        job,
        step,
        loss,
        curve,
        k,
        9,
        3.0,
        rung_peers=lambda: peers,
        segment_peers=lambda: (),
    )


def _done(cid: int, loss: float, budget: float = 27) -> Peer:
    return Peer(cid, "succeeded", ((1.0, loss + 0.5), (budget, loss)))


# Five succeeded peers: the third best (the edge of a rung promoting k=3) is 0.3.
PEERS = tuple(_done(i + 1, loss) for i, loss in enumerate((0.1, 0.2, 0.3, 0.4, 0.5)))
FLAT = tuple((float(s), 0.6 + 0.001 * (8 - s)) for s in range(1, 9))  # flat well above 0.3
STEEP = tuple((float(s), 0.05 + 1.2 * s**-0.5) for s in range(1, 9))  # 0.47 now, 0.28 at 27


# ----------------------------------------------------------------------------- options


def test_options_are_the_constructor_s_keywords_and_round_trip() -> None:
    rule = CurveRule(threshold=0.1, min_reports=5, min_peers=2, families=("pow3", "exp3"))
    assert rule.options == {
        "threshold": 0.1,
        "min_reports": 5,
        "min_peers": 2,
        "families": ["pow3", "exp3"],
    }
    assert rule.name == "curve"
    spec = rule_spec(rule)
    assert spec == {"name": "curve", "options": rule.options}
    again = make_rule(spec)
    assert isinstance(again, CurveRule)
    assert again.options == rule.options
    assert (
        repr(again)
        == repr(rule)
        == ("CurveRule(threshold=0.1, min_reports=5, min_peers=2, families=['pow3', 'exp3'])")
    )
    assert isinstance(make_rule("curve"), CurveRule)
    assert isinstance(rule, hyperband.StoppingRule)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"threshold": 0}, hyperband.ConfigurationError, "threshold must be in (0, 1), got 0"),
        ({"threshold": 1.0}, hyperband.ConfigurationError, "threshold must be in (0, 1), got 1.0"),
        ({"threshold": math.nan}, hyperband.ConfigurationError, "threshold must be in (0, 1)"),
        ({"threshold": "0.1"}, hyperband.ArgumentTypeError, "threshold must be a number"),
        ({"threshold": True}, hyperband.ArgumentTypeError, "threshold must be a number"),
        ({"min_reports": 2}, hyperband.ConfigurationError, "min_reports must be >= 3, got 2"),
        ({"min_reports": 3.0}, hyperband.ArgumentTypeError, "min_reports must be an int >= 3"),
        ({"min_peers": 0}, hyperband.ConfigurationError, "min_peers must be >= 1, got 0"),
        ({"families": "pow3"}, hyperband.ArgumentTypeError, "families must be a list of names"),
        ({"families": ["pow4"]}, hyperband.ConfigurationError, "families must be distinct names"),
        ({"families": []}, hyperband.ConfigurationError, "(at least one), got []"),
        ({"families": ["exp3", "exp3"]}, hyperband.ConfigurationError, "distinct names"),
        ({"families": [3]}, hyperband.ConfigurationError, "got [3]"),
    ],
)
def test_bad_options_name_the_argument_the_rule_and_the_value(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=r"^CurveRule: ") as info:
        CurveRule(**kwargs)
    assert message in str(info.value)


def test_a_bad_option_through_hyperband_leaves_nothing_half_made() -> None:
    with pytest.raises(hyperband.ConfigurationError, match="CurveRule: min_peers"):
        make_rule({"name": "curve", "options": {"min_peers": 0}})
    with pytest.raises(TypeError, match="unexpected keyword argument 'patience'"):
        make_rule({"name": "curve", "options": {"patience": 3}})


# ----------------------------------------------------------------------------- decisions


def test_a_flat_curve_above_the_promotion_edge_is_stopped() -> None:
    rule = CurveRule()
    view = _view(FLAT, PEERS)
    judged = rule.judge(view)
    assert judged is not None
    fc, edge, p = judged
    assert edge == 0.3
    assert p < 0.05
    assert fc.median > 0.5
    assert rule.should_stop(view)


def test_a_curve_on_course_for_the_top_k_is_not_stopped() -> None:
    # Worse than the edge now (0.47 > 0.3), but falling as a power law towards 0.28 at 27.
    view = _view(STEEP, PEERS)
    assert view.loss > 0.3
    judged = CurveRule().judge(view)
    assert judged is not None
    assert judged[2] > 0.3
    assert not CurveRule().should_stop(view)


def test_a_job_promotable_now_is_never_judged() -> None:
    # Flat at 0.25: only two peers (0.1, 0.2) ahead of it, and the rung promotes 3.
    flat_low = tuple((s, 0.25) for s, _ in FLAT)
    assert CurveRule(threshold=0.99).judge(_view(flat_low, PEERS)) is None
    # The ties go to the lower config id, as promotions break them.
    tied = tuple((s, 0.3) for s, _ in FLAT)
    assert CurveRule(threshold=0.99).judge(_view(tied, PEERS, config_id=0)) is None
    assert CurveRule(threshold=0.99).judge(_view(tied, PEERS, config_id=9)) is not None


def test_the_last_rung_asks_to_beat_the_best() -> None:
    near = tuple((s, 0.12 + 0.0001 * (8 - s)) for s, _ in FLAT)  # flat at 0.12
    # k = 0 (a bracket's last rung): the edge is the best peer, 0.1, and 0.12 stays above it.
    judged = CurveRule().judge(_view(near, PEERS, k=0))
    assert judged is not None
    assert judged[1] == 0.1
    assert CurveRule().should_stop(_view(near, PEERS, k=0))
    assert not CurveRule().should_stop(_view(near, PEERS, k=3))  # promotable now


def test_stopped_peers_do_not_compete() -> None:
    stopped = tuple(Peer(i, "stopped", ((1.0, 0.01),)) for i in range(10, 20))
    # Ten stopped peers far ahead, and 0.4, 0.5, 0.7 competing: the job (0.6) is 3rd of 4.
    view = _view(FLAT, (*stopped, *PEERS[3:], _done(6, 0.7)))
    assert CurveRule(threshold=0.99).judge(view) is None
    view = _view(FLAT, stopped + PEERS[:3])  # 0.1, 0.2, 0.3 ahead: judged and stopped
    assert CurveRule().should_stop(view)


def test_too_few_reports_or_peers_or_a_report_at_the_budget_is_not_judged() -> None:
    rule = CurveRule(min_reports=5, min_peers=4)
    assert rule.judge(_view(FLAT[:4], PEERS)) is None
    assert rule.judge(_view(FLAT[:3] + FLAT[2:3] * 3, PEERS)) is None  # 3 distinct steps
    assert rule.judge(_view(FLAT[:5], PEERS)) is not None
    assert rule.judge(_view(FLAT, (*PEERS[:3], Peer(9, "running", ())))) is None
    assert rule.judge(_view(FLAT, PEERS, budget=8)) is None  # at its budget: nothing to save
    assert CurveRule().judge(_view(FLAT, PEERS[:2], k=3)) is None  # fewer than k peers


def test_the_forecast_is_at_the_budget_from_the_segment_s_reports() -> None:
    # A promoted job reports in (9, 27]; its forecast is of its loss at 27.
    curve = tuple((float(s), 0.1 + 3.0 / s) for s in range(10, 18))
    peers = tuple(_done(i, 0.05 * i) for i in range(1, 4))  # 0.05, 0.1, 0.15: 3 ahead
    judged = CurveRule().judge(_view(curve, peers, previous=9))
    assert judged is not None
    assert judged[0].median == pytest.approx(0.1 + 3.0 / 27, rel=0.01)


def test_the_same_view_gets_the_same_answer_from_any_rule_object() -> None:
    views = [_view(FLAT, PEERS), _view(STEEP, PEERS), _view(FLAT[:5], PEERS[:4], k=1)]
    first = [CurveRule().judge(v) for v in views]
    again = [CurveRule().judge(v) for v in reversed(views)][::-1]
    for a, b in zip(first, again, strict=True):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a[1], a[2]) == (b[1], b[2])


losses = st.floats(-10, 10, allow_nan=False)


@given(
    curve=st.lists(losses, min_size=1, max_size=12),
    peer_values=st.lists(st.tuples(losses, st.sampled_from(["running", "succeeded", "stopped"]))),
    k=st.integers(0, 6),
    config_id=st.integers(0, 30),
    threshold=st.floats(0.01, 0.99),
    at_budget=st.booleans(),
)
def test_never_a_stop_for_a_job_promotable_now_or_at_its_budget(
    curve: list[float],
    peer_values: list[tuple[float, str]],
    k: int,
    config_id: int,
    threshold: float,
    at_budget: bool,
) -> None:
    budget = len(curve) if at_budget else 27
    points = tuple((float(s), v) for s, v in enumerate(curve, start=1))
    peers = tuple(
        Peer(cid, status, ((1.0, v),))  # type: ignore[arg-type]
        for cid, (v, status) in enumerate(peer_values, start=31)
    )
    view = _view(points, peers, k=k, budget=budget, config_id=config_id)
    rule = CurveRule(threshold=threshold, min_reports=3, min_peers=1)
    stop = rule.should_stop(view)
    assert stop == rule.should_stop(view)  # the same view, the same answer
    competing = [(v, p.config_id) for p, (v, _) in zip(peers, peer_values, strict=True)
                 if p.status != "stopped"]  # fmt: skip
    ahead = sum(value < (view.loss, config_id) for value in competing)
    if ahead < max(k, 1) or at_budget:
        assert not stop
