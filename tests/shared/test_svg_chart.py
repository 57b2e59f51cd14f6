"""The chart geometry shared by the status page and the backtest's report."""

from __future__ import annotations

import pytest

from shared.infra.svg_chart import Plot, nice_ticks, padded, polyline


def plot() -> Plot:
    # 100 x 50 with margins left 10, right 10, top 5, bottom 5: x 10..90, y 5..45.
    return Plot.of((100, 50), (10, 10, 5, 5), (0, 8), (100, 200))


def test_a_plot_maps_its_domains_onto_its_area() -> None:
    p = plot()
    assert (p.left, p.right, p.top, p.bottom) == (10, 90, 5, 45)
    assert (p.x(0), p.x(4), p.x(8)) == (10, 50, 90)
    assert (p.y(100), p.y(150), p.y(200)) == (45, 25, 5)  # higher values are higher up
    assert p.points([0, 8], [100, 200]) == "10.0,45.0 90.0,5.0"


def test_an_area_closes_on_its_base() -> None:
    p = plot()
    assert p.area([0, 4, 8], [200, 150, 200], 100) == (
        "10.0,45.0 10.0,5.0 50.0,25.0 90.0,5.0 90.0,45.0"
    )
    assert p.area([], [], 100) == ""


def test_an_empty_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="empty domain"):
        Plot.of((100, 50), (0, 0, 0, 0), (1, 1), (0, 1))


def test_ticks_are_round_values_inside_the_domain() -> None:
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    # A fifth of the range is 114,000: the step is the next round value, 200,000.
    assert nice_ticks(9_850_000, 10_420_000) == [10_000_000, 10_200_000, 10_400_000]
    assert nice_ticks(-2.7, 0) == [-2, -1, 0]
    assert nice_ticks(5, 5) == [5]
    ticks = plot().y_ticks(lambda v: f"{v:.0f}")
    assert [t.label for t in ticks] == ["100", "120", "140", "160", "180", "200"]
    assert ticks[0].position == 45.0 and ticks[-1].position == 5.0
    assert [t.label for t in plot().x_ticks(str, count=4)] == ["0", "2", "4", "6", "8"]


def test_a_flat_series_gets_room_around_it() -> None:
    assert padded(10_000_000, 10_000_000) == (9_950_000, 10_050_000)
    assert padded(0, 0) == (-1000, 1000)
    assert padded(0, 0, flat_pad=0.5) == (-0.5, 0.5)
    assert padded(100, 200) == (92, 208)


def test_polyline_rounds_to_a_tenth() -> None:
    assert polyline([(1.04, 2.06), (3, 4)]) == "1.0,2.1 3.0,4.0"
