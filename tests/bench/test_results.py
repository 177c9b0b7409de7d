"""The bench's results files over several scales (bench/common.py, ``make bench`` with BENCH_SCALES)."""

from __future__ import annotations

import json

from bench import common


def test_each_scale_keeps_its_figures_and_the_earlier_file_is_kept_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    (tmp_path / "daily_job.json").write_text(json.dumps({"benchmark": "daily_job", "wall_s": 4.74}))

    monkeypatch.setenv("BENCH_SCALE_KEY", "1")
    common.results_write("daily_job", {"benchmark": "daily_job", "wall_s": 4.5})
    monkeypatch.setenv("BENCH_SCALE_KEY", "0.25")
    common.results_write("daily_job", {"benchmark": "daily_job", "wall_s": 1.2})
    monkeypatch.setenv("BENCH_SCALE_KEY", "1")
    path = common.results_write("daily_job", {"benchmark": "daily_job", "wall_s": 4.4})

    assert json.loads(path.read_text()) == {
        "benchmark": "daily_job",
        "scales": ["0.25", "1"],
        "by_scale": {
            "0.25": {"benchmark": "daily_job", "wall_s": 1.2},
            "1": {"benchmark": "daily_job", "wall_s": 4.4},
        },
        "previous": {"benchmark": "daily_job", "wall_s": 4.74},
    }


def test_one_scale_writes_the_file_as_before(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    monkeypatch.delenv("BENCH_SCALE_KEY", raising=False)

    path = common.results_write("reads", {"benchmark": "reads", "p99_ms": 39.7})

    assert json.loads(path.read_text()) == {"benchmark": "reads", "p99_ms": 39.7}
