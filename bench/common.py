"""What every benchmark shares: the machine's description, percentiles, and the JSON files under bench/results/."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", str(ROOT / "bench" / "results")))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks, as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict:
    """p50, p90, p99, max and mean of durations, in milliseconds."""
    ms = [value * 1000 for value in seconds]
    return {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else None,
        "mean_ms": round(sum(ms) / len(ms), 3) if ms else None,
    }


def timed(function, runs: int, *, warmup: int = 2) -> list[float]:
    """Durations in seconds of ``runs`` calls of ``function`` after ``warmup`` calls that are not counted."""
    for _ in range(warmup):
        function()
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return durations


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_info(conn=None) -> dict:
    """Where the figures were measured: CPU, cores, memory, Python, PostgreSQL and its main settings."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    if conn is not None:
        info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        for name in ("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit", "max_connections"):
            info[f"pg_{name}"] = conn.execute(f"SHOW {name}").fetchone()[0]
    return info


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def results_head(benchmark: str, conn) -> dict:
    """What every results file starts with: its name, when, and the machine (PostgreSQL's from ``conn``)."""
    return {"benchmark": benchmark, "measured_at": now_iso(), "machine": machine_info(conn)}


def results_write(name: str, data: dict) -> Path:
    """bench/results/<name>.json (or $BENCH_RESULTS_DIR), pretty-printed; returns its path.

    With ``BENCH_SCALE_KEY`` (``make bench`` over several BENCH_SCALES), the file keeps one entry per scale under
    ``by_scale``, this run's replacing only its own scale's; a file of one scale written before is kept whole
    under ``previous``, so every figure stays beside the one it follows."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    scale = os.environ.get("BENCH_SCALE_KEY", "")
    if scale:
        data = scales_merge(_read(path), scale, data)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def scales_merge(existing: dict | None, scale: str, data: dict) -> dict:
    """``existing`` (a results file, or None) with ``data`` as the figures at ``scale``."""
    existing = existing if isinstance(existing, dict) else {}
    by_scale = dict(existing.get("by_scale") or {})
    by_scale[scale] = data
    previous = existing.get("previous") if "by_scale" in existing else (existing or None)
    merged = {
        "benchmark": data.get("benchmark") or existing.get("benchmark"),
        "scales": sorted(by_scale, key=float),
        "by_scale": {key: by_scale[key] for key in sorted(by_scale, key=float)},
    }
    if previous:
        merged["previous"] = previous
    return merged


def ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 3) if baseline else None
