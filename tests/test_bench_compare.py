"""The benchmark regression guard (benchmarks/guard.py) and the README table, on synthetic
results: no peer library and no timing involved."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import guard  # noqa: E402
import readme_table  # noqa: E402


def step(figure, **values):
    return {"figure": figure, "unit": "µs", "better": "lower", "values": values}


def results(*rows, threads="1", quick=False):
    return {"machine": {"quick": quick}, "results": {threads: list(rows)}}


def test_ratios_time_and_throughput():
    assert guard.ratios(step("a", tapegrad=2.0, torch=6.0)) == {"torch": 3.0}
    gemm = {"figure": "g", "unit": "GFLOP/s", "better": "higher", "values": {}}
    gemm["values"] = {"tapegrad": 100.0, "numpy": 50.0}
    assert guard.ratios(gemm) == {"numpy": 2.0}


def test_compiled_peers_against_our_compiled_step():
    r = step("a", **{"tapegrad": 10.0, "tapegrad-compile": 5.0, "torch": 20.0, "jax": 10.0})
    assert guard.ratios(r) == {"torch": 2.0, "jax": 2.0}


def test_missing_or_zero_values_give_no_ratio():
    assert guard.ratios(step("a", tapegrad=1.0, numpy=None)) == {}
    assert guard.ratios(step("a", torch=3.0)) == {}


def test_a_fall_beyond_tolerance_is_flagged():
    base = results(step("a", tapegrad=1.0, torch=10.0), step("b", tapegrad=1.0, torch=10.0))
    now = results(step("a", tapegrad=1.0, torch=8.9), step("b", tapegrad=1.0, torch=9.1))
    flagged = guard.compare(now["results"], base["results"])
    assert [(f["figure"], f["peer"]) for f in flagged] == [("a", "torch")]
    assert flagged[0]["change"] == pytest.approx(-0.11)
    assert "| 1 | a | torch | 10.00× | 8.90× | -11 % |" in guard.table(flagged)


def test_a_slower_machine_is_not_a_regression():
    base = results(step("a", tapegrad=1.0, torch=10.0))
    now = results(step("a", tapegrad=3.0, torch=30.0))
    assert guard.compare(now["results"], base["results"]) == []


def test_figures_peers_and_threads_on_one_side_only_are_skipped():
    base = results(step("a", tapegrad=1.0, torch=10.0))
    now = results(step("b", tapegrad=1.0, torch=1.0), step("a", tapegrad=1.0, jax=1.0))
    assert guard.compare(now["results"], base["results"]) == []
    other = results(step("a", tapegrad=1.0, torch=1.0), threads="2")
    assert guard.compare(other["results"], base["results"]) == []


def test_check_exit_status(tmp_path, capsys):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(results(step("a", tapegrad=1.0, torch=10.0))))
    now = results(step("a", tapegrad=2.0, torch=10.0))
    assert guard.check(now, str(path)) == 1
    assert "| 1 | a | torch | 10.00× | 5.00× | -50 % |" in capsys.readouterr().out
    assert guard.check(now, str(path), warn_only=True) == 0
    assert guard.check(results(step("a", tapegrad=1.0, torch=10.0)), str(path)) == 0


def test_readme_table_from_one_run():
    run = {
        "results": {
            "1": [
                step("1-element a + b with grad", tapegrad=0.25, torch=1.94),
                step(
                    "train step Linear(1,1), 50 points, float32, tg.compile",
                    **{"tapegrad": 1.4, "tapegrad-eager": 7.15, "torch": 151.0},
                ),
            ],
            "2": [step("train step MLP 784-1024-1024-10, batch 256, float32", tapegrad=16660.0)],
        }
    }
    text = readme_table.table(run)
    assert "| 1-element `a + b` with grad | 1 | 0.25 µs | 1.94 µs |  | 7.76× |" in text
    assert (
        "| same, `tg.compile` | 1 | 1.40 µs | 151 µs (eager) |  | 108× (5.11× our eager) |" in text
    )
    assert "| 2 | 16.7 ms |" in text
    assert "| GEMM f16 512³ | 1 | | | | |" in text
