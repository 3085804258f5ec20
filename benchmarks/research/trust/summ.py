import sys, json, statistics, collections, math
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.startswith("{")]
d = collections.defaultdict(dict)
for r in rows: d[(r["wl"], r["m"])][r["seed"]] = r
v = lambda x: math.inf if x is None else x
for (w, m), rs in sorted(d.items()):
    base = d.get((w, "kde"), {})
    f = [v(r["r100"]) for r in rs.values()]; q = [v(r["r25"]) for r in rs.values()]
    common = [s for s in rs if s in base]
    win = sum(v(rs[s]["r100"]) < v(base[s]["r100"]) - 1e-12 for s in common); loss = sum(v(rs[s]["r100"]) > v(base[s]["r100"]) + 1e-12 for s in common)
    gm = statistics.mean(f)
    print(f"{w:15s} {m:16s} n={len(rs):2d} med100 {statistics.median(f):.4g} med25 {statistics.median(q):.4g} mean100 {gm:.4g}  vs kde W/L {win}/{loss}")
