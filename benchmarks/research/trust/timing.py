"""Cost per draw, lcbench space (d=7), 1000 observations: 600@2, best 250 of them @6, 100 @17, 50 @52."""
import sys, time
sys.path.insert(0, "/work/research/benchmarks_ro"); sys.path.insert(0, "/work/research")
import numpy as np
from hyperband.samplers import kde as K
from yahpo import space as ysp
from trust2 import TrustKDE
S = ysp.NNI_SPACE
MK = {"kde": lambda: K.KDESampler(S),
      "lg-tau2-pr-mt4": lambda: TrustKDE(S, mode="largest", transform="tau2", prior=True, p0=0.6, min_top=4),
      "veto-pairs": lambda: TrustKDE(S, mode="veto", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4, min_pairs=5),
      "veto-model": lambda: TrustKDE(S, mode="veto", pmeas="model", transform="tau2", prior=True, p0=0.6, min_top=4),
      "mix-tau2-mt4": lambda: TrustKDE(S, mode="mix", transform="tau2", min_top=4)}
for kind in sys.argv[1:]:
    s = MK[kind](); r = np.random.default_rng(1); rng = np.random.default_rng(0)
    cfgs = s._random.draw(r, 700)
    lat = r.random((700, 1))
    f = lambda i, b: float(lat[i, 0] + r.normal(0, 0.3 / b ** 0.5))
    cur = list(range(600))
    for b, keep in ((2, 250), (6, 100), (17, 50), (52, 0)):
        losses = {i: f(i, b) for i in cur}
        for i in cur: s.observe(cfgs[i], b, losses[i])
        cur = sorted(cur, key=losses.get)[:keep]
    s.sample(rng, 1)
    n = 300; t = time.perf_counter()
    for _ in range(n): s.sample(rng, 1)
    cached = (time.perf_counter() - t) / n * 1e3
    m = 30; t = time.perf_counter()
    for j in range(m):
        s.observe(cfgs[600 + j], 52, f(600 + j, 52)); s.sample(rng, 1)
    top = (time.perf_counter() - t) / m * 1e3
    t = time.perf_counter()
    for j in range(m):
        s.observe(cfgs[630 + j], 2, f(630 + j, 2)); s.sample(rng, 1)
    low = (time.perf_counter() - t) / m * 1e3
    w = {k: round(v, 3) for k, v in getattr(s, "last_w", {}).items()}
    print(f"{kind:15s} draw {cached:.2f} ms | observe@top+draw {top:.2f} ms | observe@2+draw {low:.2f} ms | w={w} p={ {k: round(v,2) for k,v in getattr(s,'last_p',{}).items()} }")
