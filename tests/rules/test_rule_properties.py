"""Properties of the rules' pure core: the percentile estimate stays within the buckets' averages, and the
state machine alerts only on reaching firing and on leaving it, never twice for one slot."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from upstat.rules.evaluate import weighted_percentile
from upstat.rules.state import SeriesState, step

means = st.lists(
    st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 1000)), min_size=1, max_size=50
)


@given(means, st.sampled_from([0.5, 0.95, 0.99]))
def test_the_percentile_estimate_is_one_of_the_averages_and_grows_with_q(
    values: list[tuple[float, int]], q: float
) -> None:
    found = weighted_percentile(values, q)
    assert found in [v for v, _ in values]
    assert weighted_percentile(values, 0.5) <= weighted_percentile(values, 0.99)  # type: ignore[operator]


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 5))
def test_alerts_come_only_on_firing_and_resolved_and_alternate(evaluations: list[bool], for_n: int) -> None:
    s = SeriesState()
    alerted = []
    for slot, breached in enumerate(evaluations):
        before = s
        s = step(s, breached=breached, value=None, for_n=for_n, slot=slot)
        assert step(s, breached=not breached, value=None, for_n=for_n, slot=slot) is s  # a slot counts once
        if s.seq != before.seq:
            assert s.seq == before.seq + 1 and s.alert is not None
            alerted.append(s.alert.transition)
            assert s.alert.transition == ("firing" if s.state == "firing" else "resolved")
        if s.state == "firing":
            assert s.count >= for_n or before.state == "firing"
    assert alerted == ["firing", "resolved"] * (len(alerted) // 2) + ["firing"] * (len(alerted) % 2)
