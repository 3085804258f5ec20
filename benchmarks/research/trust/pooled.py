import sys, json, collections, math
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.startswith("{")]
d = collections.defaultdict(dict)
for r in rows: d[(r["wl"], r["m"])][r["seed"]] = r
v = lambda x: math.inf if x is None else x
ms = sorted({m for w, m in d})
for key in ("r100", "r25"):
  print(key)
  for m in ms:
    W = L = 0; lr = []
    for (w, mm), a in d.items():
        if mm != m or (w, "kde") not in d: continue
        k = d[(w, "kde")]
        for s in a:
            if s in k:
                x, y = v(a[s][key]), v(k[s][key])
                W += x < y - 1e-12; L += x > y + 1e-12
                if 0 < x < math.inf and 0 < y < math.inf: lr.append(math.log(x / y))
    n = W + L
    # two-sided sign test p-value
    pv = min(1.0, 2 * sum(math.comb(n, i) for i in range(0, min(W, L) + 1)) / 2 ** n) if n else 1
    print(f"  {m:24s} W/L vs kde {W:3d}/{L:3d}  sign-p {pv:.3f}  mean log-ratio {sum(lr)/max(1,len(lr)):+.3f} (n={len(lr)})")
