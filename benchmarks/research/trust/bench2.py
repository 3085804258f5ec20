"""Runner: python bench2.py WL1,WL2 NSEEDS M1,M2 > log (JSON lines, one per run)."""
import sys, math, json, time, os, warnings
sys.path.insert(0, "/work/research/benchmarks_ro")
sys.path.insert(0, "/work/research")
warnings.filterwarnings("ignore")
import numpy as np
import hyperband
assert hyperband.__file__.startswith("/work/research/hyperband"), hyperband.__file__
from hyperband.samplers import kde as K
import workloads as wl
from trust2 import TrustKDE

T = TrustKDE
METHODS = {
    "random": lambda s: s,
    "kde": lambda s: K.KDESampler(s),
    "sel-model": lambda s: T(s, mode="select"),
    "sel-pairs": lambda s: T(s, mode="select", pmeas="pairs"),
    "mix-p3": lambda s: T(s, mode="mix"),
    "mix-tau2": lambda s: T(s, mode="mix", transform="tau2"),
    "mix-p3-prior": lambda s: T(s, mode="mix", prior=True),
    "mix-tau2-prior": lambda s: T(s, mode="mix", transform="tau2", prior=True),
    "prod-p3": lambda s: T(s, mode="product"),
    "sel-model-mt4": lambda s: T(s, mode="select", min_top=4),
    "mix-tau2-mt4": lambda s: T(s, mode="mix", transform="tau2", min_top=4),
    "sel-tau2-pr-mt4": lambda s: T(s, mode="select", transform="tau2", prior=True, p0=0.6, min_top=4),
    "sel-tau2-pr": lambda s: T(s, mode="select", transform="tau2", prior=True, p0=0.6),
    "mix-tau2-pr-mt4": lambda s: T(s, mode="mix", transform="tau2", prior=True, p0=0.6, min_top=4),
    "mix-p3-pr-mt4": lambda s: T(s, mode="mix", prior=True, p0=0.5, min_top=4),
    "sel-model-mt4-local": lambda s: T(s, mode="select", min_top=4, local=8),
    "lg-tau2-pr-mt4": lambda s: T(s, mode="largest", transform="tau2", prior=True, p0=0.6, min_top=4),
    "lg-tau2-pr-mt3": lambda s: T(s, mode="largest", transform="tau2", prior=True, p0=0.6, min_top=3),
    "lg-p3-mt4": lambda s: T(s, mode="largest", min_top=4),
    "lg-tau2-pr-mt4-local": lambda s: T(s, mode="largest", transform="tau2", prior=True, p0=0.6, min_top=4, local=8),
    "sel-pairs-mt4": lambda s: T(s, mode="select", pmeas="pairs", min_top=4),
    "sel-pairs-tau2-pr-mt4": lambda s: T(s, mode="select", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4),
    "lg-pairs-tau2-pr-mt4": lambda s: T(s, mode="largest", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4),
    "mix-pairs-tau2-pr-mt4": lambda s: T(s, mode="mix", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4),
    "mix-pairs-p3-mt4": lambda s: T(s, mode="mix", pmeas="pairs", min_top=4),
    "veto-pairs": lambda s: T(s, mode="veto", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4, min_pairs=5),
    "veto-pairs-55": lambda s: T(s, mode="veto", pmeas="pairs", transform="tau2", prior=True, p0=0.6, min_top=4, min_pairs=5, veto=0.55),
    "veto-model": lambda s: T(s, mode="veto", pmeas="model", transform="tau2", prior=True, p0=0.6, min_top=4),
    "kde-local": lambda s: T(s, mode="select", min_top=10**9, local=8),
    "sel-model-local": lambda s: T(s, mode="select", local=8),
    "mix-tau2-local": lambda s: T(s, mode="mix", transform="tau2", local=8),
}

def get_workload(name):
    if name.startswith("lc"):
        from yahpo.lcbench import lcbench_workload
        return lcbench_workload(name[2:])
    return wl.workload(name)

def total_of(w):
    if w.max_budget == 81 and not name_is_lc(w):
        return 4 * 1902
    sch = hyperband.schedule(w.max_budget, w.eta, min_budget=w.min_budget, integer_budgets=getattr(w, "integer_budgets", False))
    return 4 * float(sch.total_budget)

def name_is_lc(w): return w.name.startswith("lcbench")

def run(w, seed, sampler, total):
    hb = hyperband.Hyperband(sampler, max_budget=w.max_budget, min_budget=w.min_budget, eta=w.eta,
                             mode=w.mode, iterations=None, seed=seed,
                             **({"integer_budgets": True} if getattr(w, "integer_budgets", False) else {}))
    spent = 0.0; best = math.inf; reg = None; sign = -1 if w.mode == "maximize" else 1; at25 = None
    while spent < total:
        job = hb.ask(); v = w(job.config, job.budget); hb.tell(job.id, v); spent += job.budget
        if job.budget == w.max_budget and sign * v < best:
            best = sign * v; reg = w.regret(job.config)
        if at25 is None and spent >= total / 4: at25 = reg
    return reg, at25

if __name__ == "__main__":
    names = sys.argv[1].split(","); seeds = range(int(os.environ.get("SEED0", 0)), int(os.environ.get("SEED0", 0)) + int(sys.argv[2])); ms = sys.argv[3].split(",")
    for name in names:
        w = get_workload(name); total = total_of(w)
        for m in ms:
            for s in seeds:
                t0 = time.time(); smp = METHODS[m](w.space)
                r, q = run(w, s, smp, total)
                print(json.dumps(dict(wl=name, m=m, seed=s, r100=r, r25=q, t=round(time.time()-t0, 1),
                                      w={str(k): round(v, 3) for k, v in getattr(smp, "last_w", {}).items()},
                                      p={str(k): round(v, 3) for k, v in getattr(smp, "last_p", {}).items()})), flush=True)
        if hasattr(w, "close"): w.close()
