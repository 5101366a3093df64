"""Markdown tables of bench/results/results.jsonl, for docs/performance.md.

    python bench/report.py --since "2026-11-26 23:56:00"

Runs of the same scenario and server since that time are merged to the median of
each figure (bench/run.py runs every measurement twice by default); runs sampled by
py-spy are left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"
SERVER_ORDER = {"netzn": 0, "uvicorn": 1, "raw": 2}


def median(rows: list[dict[str, Any]], key: str) -> Any:
    values = [row[key] for row in rows if isinstance(row.get(key), int | float)]
    return statistics.median(values) if values else None


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    if isinstance(value, int | float):
        return f"{round(value):,}"
    return str(value)


def load(since: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in RESULTS.read_text().splitlines():
        row = json.loads(line)
        if row.get("when", "") >= since and "label" in row and not row.get("profiled"):
            groups[(row["label"], row["server"])].append(row)
    return groups


def loads(rows: list[dict[str, Any]]) -> str:
    return " / ".join(row["loadavg_before"].split()[0] for row in rows)


def fanout_table(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> list[str]:
    out = [
        "| scenario | server | deliveries/s | lost | dup | late | p50 ms | p99 ms "
        "| server CPU | CPU µs/delivery | peak RSS MB | load avg (1 min) per run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    keys = sorted(
        (key for key in groups if key[0].startswith("fanout")),
        key=lambda k: (
            (int(k[0].split("N=")[1].split()[0]) * 1000 + float(k[0].split("R=")[1])) * 10
            + SERVER_ORDER.get(k[1], 9)
        ),
    )
    for label, server in keys:
        rows = groups[(label, server)]
        late = median(rows, "late_share")
        scenario = label.removeprefix("fanout ")
        out.append(
            f"| {scenario} | {server} | {fmt(median(rows, 'deliveries_per_s'))} "
            f"| {fmt(median(rows, 'lost'))} | {fmt(median(rows, 'duplicates'))} "
            f"| {fmt(100 * late if late is not None else None, 1)} % "
            f"| {fmt(median(rows, 'p50_ms'))} | {fmt(median(rows, 'p99_ms'))} "
            f"| {fmt(median(rows, 'server_cpu_pct'))} % "
            f"| {fmt(median(rows, 'server_cpu_us_per_delivery'), 1)} "
            f"| {fmt(median(rows, 'server_peak_rss_mb'))} | {loads(rows)} |"
        )
    return out


def other_rows(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> list[str]:
    out = []
    for (label, server), rows in sorted(groups.items()):
        if label.startswith("fanout"):
            continue
        keys = [
            "connected",
            "connect_seconds",
            "baseline_rss_mb",
            "rss_with_connections_mb",
            "kb_per_connection",
            "persisted_per_s",
            "ack_p50_ms",
            "ack_p99_ms",
            "server_cpu_ms_per_message",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "incomplete_rounds",
            "acked",
            "stalled_closed_by_server",
            "server_logged_slow_closes",
            "rss_growth_mb",
            "server_cpu_pct",
            "server_peak_rss_mb",
        ]
        figures = ", ".join(
            f"{key}={fmt(median(rows, key), 1)}" for key in keys if median(rows, key) is not None
        )
        out.append(f"| {label} | {server} | {figures} | {loads(rows)} | {len(rows)} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--since", default="")
    args = parser.parse_args()
    groups = load(args.since)
    print("\n".join(fanout_table(groups)))
    print()
    print("| scenario | server | figures (median) | load avg per run | runs |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(other_rows(groups)))


if __name__ == "__main__":
    main()
