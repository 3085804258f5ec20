import sys, json, statistics, collections, math
rows = [json.loads(l) for f in sys.argv[2:] for l in open(f) if l.startswith("{")]
d = collections.defaultdict(dict)
for r in rows: d[(r["wl"], r["m"])][r["seed"]] = r
v = lambda x: math.inf if x is None else x
ms = sys.argv[1].split(",")
wls = ["hartmann6_bad", "learning_curves", "hartmann6_good", "lc126029", "lc167201", "lc167185", "lc168331", "lc34539", "lc7593", "lc146212", "lc167168", "lc189862", "lc189909"]
print("| workload (seeds) | " + " | ".join(ms) + " |"); print("|---" * (len(ms) + 1) + "|")
for w in wls:
    cells = []
    for m in ms:
        a = d.get((w, m))
        if not a: cells.append("–"); continue
        f = statistics.median(v(r["r100"]) for r in a.values()); q = statistics.median(v(r["r25"]) for r in a.values())
        fmt = (lambda x: f"{x:.3g}") 
        cells.append(f"{fmt(f)} / {fmt(q)}")
    n = len(d.get((w, "kde"), {}))
    print(f"| {w} ({n}) | " + " | ".join(cells) + " |")
