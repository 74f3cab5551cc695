"""A device's traffic totals per report (what the dashboard sums): each interface's step since its latest
stored value, a reset counted whole, a first sight counting zero, a report not newer than the stored ones
adding nothing."""

from __future__ import annotations

from upstat.devices.monitoring import traffic_totals


def counters(**interfaces: tuple[float, float]) -> dict[str, float]:
    out = {}
    for name, (rx, tx) in interfaces.items():
        out[f"traffic.{name}.rx_bytes"] = rx
        out[f"traffic.{name}.tx_bytes"] = tx
        out[f"traffic.{name}.rx_packets"] = rx / 100
    return out


def test_the_step_of_every_interface_is_summed_and_a_reset_counts_whole() -> None:
    last = {
        "traffic.eth0.rx_bytes": (1000, 5000.0),
        "traffic.eth0.tx_bytes": (1000, 100.0),
        "traffic.wlan0.rx_bytes": (1000, 9000.0),  # wlan0 restarted since: its counters began again
        "traffic.wlan0.tx_bytes": (1000, 800.0),
    }
    got = traffic_totals(counters(eth0=(5600.0, 150.0), wlan0=(40.0, 30.0)), last, 2000)
    assert got == {"traffic_total.rx_bytes": 600.0 + 40.0, "traffic_total.tx_bytes": 50.0 + 30.0}


def test_an_interface_seen_first_counts_zero() -> None:
    last = {"traffic.eth0.rx_bytes": (1000, 5000.0), "traffic.eth0.tx_bytes": (1000, 100.0)}
    got = traffic_totals(counters(eth0=(5100.0, 100.0), eth1=(7000.0, 7000.0)), last, 2000)
    assert got == {"traffic_total.rx_bytes": 100.0, "traffic_total.tx_bytes": 0.0}
    assert traffic_totals(counters(eth0=(5.0, 5.0)), {}, 2000) == {
        "traffic_total.rx_bytes": 0.0,
        "traffic_total.tx_bytes": 0.0,
    }


def test_a_report_not_newer_than_the_stored_points_adds_nothing() -> None:
    last = {"traffic.eth0.rx_bytes": (3000, 5000.0), "traffic.eth0.tx_bytes": (3000, 100.0)}
    assert traffic_totals(counters(eth0=(4000.0, 90.0)), last, 2000) == {}
    assert traffic_totals(counters(eth0=(5000.0, 100.0)), last, 3000) == {}
    assert traffic_totals({}, last, 4000) == {}
