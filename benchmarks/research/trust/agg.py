import sys, json, statistics, collections, math
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.startswith("{")]
d = collections.defaultdict(dict)
for r in rows: d[(r["wl"], r["m"])][r["seed"]] = r
v = lambda x: math.inf if x is None else x
wls = sorted({w for w, m in d}); ms = sorted({m for w, m in d})
print("ratio of medians to kde (100% / 25%); last column geo-mean over workloads with data")
print(f"{'method':24s}" + "".join(f"{w[:13]:>16s}" for w in wls) + "   geo100  geo25")
for m in ms:
    cells = []; l100 = []; l25 = []
    for w in wls:
        if (w, m) not in d or (w, "kde") not in d: cells.append(f"{'':>16s}"); continue
        a = d[(w, m)]; k = d[(w, "kde")]; seeds = [s for s in a if s in k]
        r100 = statistics.median(v(a[s]["r100"]) for s in seeds) / statistics.median(v(k[s]["r100"]) for s in seeds)
        r25 = statistics.median(v(a[s]["r25"]) for s in seeds) / statistics.median(v(k[s]["r25"]) for s in seeds)
        l100.append(math.log(r100)); l25.append(math.log(r25))
        cells.append(f"{r100:7.2f}/{r25:5.2f}   ")
    print(f"{m:24s}" + "".join(cells) + f"  {math.exp(statistics.mean(l100)):6.3f} {math.exp(statistics.mean(l25)):6.3f}  (n_wl={len(l100)})")
