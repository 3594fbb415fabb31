"""Ratios of a results.json, and the regression guard of `run.py --compare BASELINE.json`.

A ratio is how many times better tapegrad is than a peer (time: peer / ours; throughput: ours /
peer). Compiled peers (torch.compile, jax.jit, mx.compile) are compared with tapegrad's tg.compile
replay where the row has one, every other peer with tapegrad's eager step. Ratios, not times, are
compared between runs: both sides of a ratio ran on the same machine in the same run, so a busier
or slower machine moves them far less than it moves the times.
"""

import json

OURS = ("tapegrad", "tapegrad-compile", "tapegrad-numpy")
COMPILED = ("torch-compile", "jax", "mlx")
TOLERANCE = 0.10


def ratios(r):
    """{peer: ratio} for every peer of row `r` that has a number beside tapegrad's."""
    v = r["values"]
    out = {}
    for peer, theirs in v.items():
        if peer in OURS or not theirs:
            continue
        base = v.get("tapegrad-compile") if peer in COMPILED else None
        ours = base or v.get("tapegrad")
        if not ours:
            continue
        out[peer] = ours / theirs if r["better"] == "higher" else theirs / ours
    return out


def compare(now, base, tolerance=TOLERANCE):
    """Rows whose ratio against a peer fell by more than `tolerance` (a fraction) from `base` to
    `now`; both are results.json's "results" ({threads: [rows]}). Figures, peers or thread counts
    that only one side has are skipped: a guard compares like with like."""
    flagged = []
    for threads, rows in now.items():
        before = {r["figure"]: ratios(r) for r in base.get(threads, [])}
        for r in rows:
            if r["figure"] not in before:
                continue
            for peer, x in ratios(r).items():
                old = before[r["figure"]].get(peer)
                if old and x < old * (1 - tolerance):
                    flagged.append(
                        {
                            "threads": threads,
                            "figure": r["figure"],
                            "peer": peer,
                            "baseline": old,
                            "now": x,
                            "change": x / old - 1,
                        }
                    )
    return flagged


def table(flagged):
    out = [
        "| threads | figure | vs | baseline | now | change |",
        "|---|---|---|---|---|---|",
    ]
    for f in flagged:
        out.append(
            f"| {f['threads']} | {f['figure']} | {f['peer']} | {f['baseline']:.2f}× "
            f"| {f['now']:.2f}× | {100 * f['change']:+.0f} % |"
        )
    return "\n".join(out)


def check(now, baseline_path, tolerance=TOLERANCE, warn_only=False):
    """Prints the flagged rows against the baseline file; the exit status run.py should return."""
    base = json.loads(open(baseline_path).read())
    if base.get("machine", {}).get("quick") != now.get("machine", {}).get("quick"):
        print("note: one of the two runs is --quick and the other is not: few figures match")
    flagged = compare(now["results"], base["results"], tolerance)
    if not flagged:
        print(f"No ratio fell by more than {100 * tolerance:.0f} % against {baseline_path}.")
        return 0
    print(f"{len(flagged)} ratio(s) fell by more than {100 * tolerance:.0f} % against")
    print(f"{baseline_path}:\n")
    print(table(flagged))
    return 0 if warn_only else 1
