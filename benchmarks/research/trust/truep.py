import sys, json
sys.path.insert(0, "/work/research/benchmarks_ro"); sys.path.insert(0, "/work/research")
import numpy as np, hyperband
from hyperband.samplers import kde as K
from trust2 import concordance
from bench2 import get_workload
for name in sys.argv[1:]:
    w = get_workload(name)
    sch = hyperband.schedule(w.max_budget, w.eta, min_budget=w.min_budget, integer_budgets=getattr(w, "integer_budgets", False))
    budgets = sorted({r.budget for b in sch.brackets for r in b.rungs})
    rng = np.random.default_rng(123)
    cfgs = K.KDESampler(w.space)._random.draw(rng, 200)
    sign = -1 if w.mode == "maximize" else 1
    vals = {b: np.array([sign * w(c, b) for c in cfgs]) for b in budgets}
    top = max(budgets)
    # all random configs, and the top 1/3 at the top budget (range-restricted, as promoted)
    out = {b: round(concordance(-vals[b], -vals[top]), 2) for b in budgets[:-1]}
    sel = np.argsort(vals[top])[:40]
    out2 = {b: round(concordance(-vals[b][sel], -vals[top][sel]), 2) for b in budgets[:-1]}
    print(name, "true p (200 random):", out, " among top-20% at top:", out2, flush=True)
    if hasattr(w, "close"): w.close()
