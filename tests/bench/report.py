#!/usr/bin/env python3
"""Turn the raw measurements of scripts/bench.sh into the markdown report.

    report.py DIR              print the report built from DIR (see below)
    report.py --splice DOC MD  replace the marked results section of DOC with MD

DIR holds what bench.sh measured:
    machine.tsv         key<TAB>value lines: the machine, the date, the versions
    oneshot.tsv         row id<TAB>rootfs<TAB>command, in table order
    oneshot-r*.json     hyperfine --export-json, one file per round
    micro-*.json        one microbench JSON object per file (host, bwrap, sbx)
    peers.tsv           script<TAB>status<TAB>markdown file (bench-policy, bench-import)

Percentiles are computed from every run's wall-clock time (hyperfine's
"times" array, merged over rounds) with linear interpolation between the
closest ranks: the same method tests/bench/microbench.c uses.
"""
import glob
import json
import os
import sys

BEGIN = "<!-- bench.sh results: begin -->"
END = "<!-- bench.sh results: end -->"

# (numerator row, denominator row, target or None, what the ratio compares)
RATIOS = [
    ("sbx", "bwrap", 0.8, "same host view rootfs"),
    ("sbx-busybox", "bwrap-busybox", 0.8, "same busybox rootfs"),
    ("sbx-busybox", "runc", 0.2, "same busybox rootfs"),
    ("sbx", "runc", 0.2, "sbx on the host view, runc on busybox"),
    ("sbx", "unshare", None, "namespaces alone"),
    ("sbx", "true", None, "no sandbox at all"),
]


def quantile(sorted_values, q):
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    frac = pos - lo
    return sorted_values[lo] + frac * (sorted_values[lo + 1] - sorted_values[lo])


def stats(values):
    v = sorted(values)
    return {
        "n": len(v),
        "p50": quantile(v, 0.5),
        "p90": quantile(v, 0.9),
        "mean": sum(v) / len(v),
        "min": v[0],
    }


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def machine_section(d, out):
    m = dict((row[0], row[1] if len(row) > 1 else "") for row in read_tsv(os.path.join(d, "machine.tsv")))
    out.append("Date: %s. sbx %s (`%s`). %s runs per row in %s interleaved rounds."
               % (m["date"], m["revision"], m["sbx"], m["runs"], m["rounds"]))
    if int(m["runs"]) < 200:
        out.append("")
        out.append("_Fewer than 200 runs per row: a quick sample, not a result to quote._")
    out.append("")
    out.append("### Machine")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    for key, label in [("kernel", "kernel"), ("cpu", "CPU"), ("nproc", "cores (nproc)"),
                       ("memory", "memory"), ("cgroup_v1", "cgroup v1 controllers"),
                       ("cgroup_v2", "cgroup2"), ("load_start", "load average before"),
                       ("load_end", "load average after"), ("peers", "peers")]:
        out.append("| %s | %s |" % (label, m.get(key, "?")))
    out.append("")


def oneshot_section(d, out):
    rows = read_tsv(os.path.join(d, "oneshot.tsv"))
    times = {}
    for path in sorted(glob.glob(os.path.join(d, "oneshot-r*.json"))):
        with open(path, encoding="utf-8") as f:
            for result in json.load(f)["results"]:
                times.setdefault(result["command"], []).extend(result["times"])
    st = {row_id: stats(times[row_id]) for row_id, _, _ in rows}

    out.append("### One-shot sandbox running /bin/true")
    out.append("")
    out.append("Wall-clock time of the whole command, from spawn to exit (milliseconds).")
    out.append("")
    out.append("| row | rootfs | command | p50 | p90 | mean | min | runs |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|")
    for row_id, rootfs, command in rows:
        s = st[row_id]
        out.append("| %s | %s | `%s` | %.2f | %.2f | %.2f | %.2f | %d |"
                   % (row_id, rootfs, command, s["p50"] * 1e3, s["p90"] * 1e3,
                      s["mean"] * 1e3, s["min"] * 1e3, s["n"]))
    out.append("")
    out.append("| ratio of p50 | compares | value | target |")
    out.append("|---|---|---:|---|")
    for num, den, target, what in RATIOS:
        if num not in st or den not in st:
            continue
        r = st[num]["p50"] / st[den]["p50"]
        if target is None:
            verdict = "-"
        else:
            verdict = "at most %.1fx: %s" % (target, "met" if r <= target else "**missed**")
        out.append("| %s / %s | %s | %.2fx | %s |" % (num, den, what, r, verdict))
    out.append("")


def micro_section(d, out):
    res = {}
    for path in glob.glob(os.path.join(d, "micro-*.json")):
        where, mode = os.path.basename(path)[len("micro-"):-len(".json")].split("-", 1)
        with open(path, encoding="utf-8") as f:
            res[(where, mode)] = json.load(f)
    if not res:
        return
    out.append("### Inside a running sandbox")
    out.append("")
    out.append("The same program (tests/bench/microbench.c) on the host, under `bwrap --unshare-all`"
               " (namespaces, no seccomp filter) and under `sbx run` (namespaces, overlay rootfs,"
               " seccomp filter of the default policy). For the allowed syscall, sbx - bwrap is"
               " the cost of the filter.")
    out.append("")
    out.append("| operation | unit | host p50 | host p90 | bwrap p50 | bwrap p90 | sbx p50 | sbx p90"
               " | sbx - bwrap (p50) | sbx - host (p50) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, label, unit, scale in [("spawn", "fork + exec + wait of /bin/true", "us", 1e-3),
                                     ("syscall", "getppid (allowed syscall)", "ns", 1.0)]:
        cells = []
        for where in ("host", "bwrap", "sbx"):
            r = res.get((where, mode))
            cells += ["%.1f" % (r["p50_ns"] * scale), "%.1f" % (r["p90_ns"] * scale)] if r else ["?", "?"]
        s = res.get(("sbx", mode))
        for base in ("bwrap", "host"):
            b = res.get((base, mode))
            cells.append("%+.1f" % ((s["p50_ns"] - b["p50_ns"]) * scale) if b and s else "?")
        n = (s or res.get(("host", mode)) or {}).get("n", 0)
        out.append("| %s (%d samples) | %s | %s |" % (label, n, unit, " | ".join(cells)))
    out.append("")


def peers_section(d, out):
    path = os.path.join(d, "peers.tsv")
    if not os.path.exists(path):
        return
    for script, status, md in read_tsv(path):
        title = {"bench-policy": "Policy compile", "bench-import": "Image import"}.get(script, script)
        out.append("### %s (scripts/%s.sh)" % (title, script))
        out.append("")
        if status == "ok":
            with open(md, encoding="utf-8") as f:
                out.append(f.read().rstrip("\n"))
        else:
            out.append("_%s_" % status)
        out.append("")


def report(d):
    out = []
    machine_section(d, out)
    oneshot_section(d, out)
    micro_section(d, out)
    peers_section(d, out)
    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")


def splice(doc, md):
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    with open(md, encoding="utf-8") as f:
        results = f.read()
    b, e = text.find(BEGIN), text.find(END)
    if b < 0 or e < b:
        sys.exit("report.py: %s has no `%s` ... `%s` section" % (doc, BEGIN, END))
    text = text[:b + len(BEGIN)] + "\n" + results.rstrip("\n") + "\n" + text[e:]
    tmp = doc + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, doc)


def main(argv):
    if len(argv) == 2:
        report(argv[1])
    elif len(argv) == 4 and argv[1] == "--splice":
        splice(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
