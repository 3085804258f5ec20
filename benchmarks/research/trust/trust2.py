"""Prototype 2: KDE with per-budget trust weights, keeping KDESampler.sample() intact.

Only the model changes (``_current_model`` / ``_propose``), so the random fraction, liars and
RNG use per draw are those of KDESampler.

Options:
  pmeas: "model" (MFES-HB: budget b's log l_b/g_b ranked against the top budget's losses on the
         configurations measured at the top; k-fold CV for the top budget's own model) or
         "pairs" (configs measured at both b and top).
  transform: "p3" (w ~ p^3) | "tau2" (w ~ max(0, 2p-1)^2) | "tau1"
  prior: add the uniform prior as a pseudo-model with p = 0.5 (weight of 'random')
  mode: "select" (one budget: argmax weight, ties -> larger; the base KDE proposal on it)
        "mix"    (l = sum w_b l_b, g = sum w_b g_b; candidates from the good mixture)
        "product"(score = sum w_b log(l_b/g_b); candidates from goods picked by weight)
  min_top: the fewest finite top-budget results before weights are used (BOHB rule before).
  local: number of extra local-search candidates per draw (perturbations of the best few
         configurations at the most-trusted budget, kernel = that budget's good bandwidths,
         all dimension kinds), scored by the same ratio.
"""
from __future__ import annotations

import math
import sys

sys.path.insert(0, "/work/research")
import numpy as np

from hyperband.samplers import kde as K


def concordance(score, target):
    """Fraction of order-preserving pairs (higher score <-> higher target); ties in score = 1/2."""
    s = np.asarray(score, float)
    t = np.asarray(target, float)
    if s.size < 2:
        return None
    ds = np.sign(s[:, None] - s[None, :])
    dt = np.sign(t[:, None] - t[None, :])
    mask = np.triu(dt != 0, 1)
    if not mask.any():
        return None
    agree = (ds * dt)[mask]
    return float(((agree > 0) + 0.5 * (agree == 0)).mean())


class _Mix:
    """What _current_model returns: the per-budget models and their weights."""

    __slots__ = ("models", "w", "w0", "key", "lead")

    def __init__(self, models, w, w0, key, lead):
        self.models = models  # list of _Model
        self.w = w  # np array, weights of models (sum with w0 to 1)
        self.w0 = w0  # weight of the uniform prior
        self.key = key
        self.lead = lead  # the model with the highest weight (liars, local search)


class TrustKDE(K.KDESampler):
    __slots__ = ("t_opts", "_cache", "last_p", "last_w", "_fits", "_pcache")

    def __init__(self, space, *, mode="select", pmeas="model", transform="p3", prior=False,
                 min_top=None, local=0, local_top=5, folds=5, p0=0.5, margin=0.5, veto=0.5, min_pairs=3, **kw):
        super().__init__(space, **kw)
        self.t_opts = dict(mode=mode, pmeas=pmeas, transform=transform, prior=prior,
                           min_top=min_top, local=local, local_top=local_top, folds=folds, p0=p0, margin=margin, veto=veto, min_pairs=min_pairs)
        self._cache = None
        self._fits = {}
        self._pcache = None
        self.last_p = {}
        self.last_w = {}

    # ---------------------------------------------------------------- weights
    def _model_at(self, b):
        st = self._stores[b]
        m = self._fits.get(b)
        if m is None or m.n != st.n:
            m = self._fits[b] = self._fit(b, st)
        return m

    def _ratio(self, model, codes, f=None):
        lay = self._layout
        if f is None:
            f = lay.features_of_points(codes)
        return (K._log_mean_exp(lay.log_kernels(f, codes, model.good))
                - K._log_mean_exp(lay.log_kernels(f, codes, model.bad)))

    def _p_values(self, budgets):
        """p per budget with a model (None when it cannot be measured)."""
        top = max(self._stores)
        st = self._stores[top]
        n = st.n
        fin = np.isfinite(st.losses[:n])
        codes = st.codes[:n][fin]
        target = -st.losses[:n][fin]
        p = {}
        if self.t_opts["pmeas"] == "model":
            for b in budgets:
                if b == top:
                    continue
                p[b] = concordance(self._ratio(self._model_at(b), codes), target)
            if top in budgets:
                k = min(self.t_opts["folds"], codes.shape[0])
                idx = np.flatnonzero(fin)
                sc = np.empty(idx.size)
                ok = True
                allc, alll = st.codes[:n], st.losses[:n]
                for fold in range(k):
                    te = np.arange(idx.size)[np.arange(idx.size) % k == fold]
                    keep = np.ones(n, bool)
                    keep[idx[te]] = False
                    if keep.sum() < self._needed:
                        ok = False
                        break
                    sub = K._Store(allc.shape[1])
                    for r in np.flatnonzero(keep):
                        sub.add(allc[r], alll[r])
                    sc[te] = self._ratio(self._fit(top, sub), codes[te])
                p[top] = concordance(sc, target) if ok else None
        else:
            key_t = {r.tobytes(): t for r, t in zip(codes, target)}
            for b in budgets:
                if b == top:
                    continue
                sb = self._stores[b]
                xs, ys = [], []
                for r, l in zip(sb.codes[:sb.n], sb.losses[:sb.n]):
                    t = key_t.get(r.tobytes())
                    if t is not None and np.isfinite(l):
                        xs.append(-l)
                        ys.append(t)
                p[b] = concordance(xs, ys) if len(xs) >= self.t_opts["min_pairs"] else None
            if top in budgets:
                p[top] = 1.0
        return p

    def _transform(self, p):
        t = self.t_opts["transform"]
        if t == "p3":
            return p ** 3
        if t == "tau2":
            return max(0.0, 2 * p - 1) ** 2
        if t == "tau1":
            return max(0.0, 2 * p - 1)
        raise ValueError(t)

    def _current_model(self):
        if self._model_budget is None or self._d == 0:
            return None
        key = tuple((b, s.n) for b, s in sorted(self._stores.items()))
        if self._cache is not None and self._cache.key == key:
            return self._cache
        budgets = [b for b, s in self._stores.items() if s.n >= self._needed]
        top = max(self._stores)
        st = self._stores[top]
        n_fin = int(np.isfinite(st.losses[:st.n]).sum())
        min_top = self.t_opts["min_top"]
        if min_top is None:
            min_top = self._needed
        mix = None
        if n_fin >= max(min_top, 3):
            pkey = (top, st.n, tuple(budgets))
            if getattr(self, "_pcache", None) is None or self._pcache[0] != pkey:
                self._pcache = (pkey, self._p_values(budgets))
            p = {b: v for b, v in self._pcache[1].items() if v is not None}
            self.last_p = dict(p)
            raw = {b: self._transform(v) for b, v in p.items()}
            w0raw = self._transform(self.t_opts["p0"]) if self.t_opts["prior"] else 0.0
            tot = sum(raw.values()) + w0raw
            if p and tot > 0 and (w0raw > 0 or any(v > 0 for v in raw.values())):
                bs = sorted(b for b in raw if raw[b] > 0)
                w = np.array([raw[b] for b in bs]) / tot
                w0 = w0raw / tot
                # lead: the highest weight, ties -> larger budget
                lead_i = max(range(len(bs)), key=lambda i: (round(w[i], 12), bs[i])) if bs else None
                models = [self._model_at(b) for b in bs]
                if self.t_opts["mode"] == "veto":
                    # BOHB's rule with a veto: the largest budget with a model whose measured p
                    # is not below `veto` (a budget with no measurement passes); none: random
                    mix = _Mix([], np.zeros(0), 1.0, key, None)
                    for b in sorted(budgets, reverse=True):
                        pb = p.get(b)
                        if pb is None or pb >= self.t_opts["veto"]:
                            m = self._model_at(b)
                            mix = _Mix([m], np.ones(1), 0.0, key, m)
                            break
                elif not bs:
                    mix = _Mix([], np.zeros(0), 1.0, key, None)
                elif self.t_opts["mode"] == "largest":
                    # the largest budget whose weight is within a factor `margin` of the best
                    wmax = float(w.max())
                    if w0 > wmax:
                        mix = _Mix([], np.zeros(0), 1.0, key, None)
                    else:
                        i = max(j for j in range(len(bs)) if w[j] >= self.t_opts["margin"] * wmax)
                        mix = _Mix([models[i]], np.ones(1), 0.0, key, models[i])
                elif self.t_opts["mode"] == "select":
                    if w0 > w[lead_i]:
                        mix = _Mix([], np.zeros(0), 1.0, key, None)
                    else:
                        mix = _Mix([models[lead_i]], np.ones(1), 0.0, key, models[lead_i])
                else:
                    mix = _Mix(models, w, w0, key, models[lead_i])
                self.last_w = {**{b: float(x) for b, x in zip(bs, w)}, "prior": float(w0)}
        if mix is None:  # BOHB's rule
            m = self._model_at(self._model_budget)
            mix = _Mix([m], np.ones(1), 0.0, key, m)
            self.last_w = {self._model_budget: 1.0}
        self._cache = mix
        return mix

    # ---------------------------------------------------------------- proposal
    def _log_prior(self, codes):
        lay = self._layout
        out = np.zeros(codes.shape[0])
        for idx in (lay.cat, lay.ord):
            if idx.size:
                x = codes[:, idx]
                out -= np.where(np.isnan(x), 0.0, np.log(lay.levels[idx])).sum(axis=1)
        if lay.real.size:
            x = codes[:, lay.real]
            out += np.where(np.isnan(x), 0.0, -0.5 * x * x - 0.5 * K._LOG_2PI).sum(axis=1)
        return out

    def _propose(self, rng, mix, liars):
        if mix.lead is None:  # the prior won: a random draw
            (config,) = self._random.draw(rng, 1)
            return config, self._encode(config)
        lay = self._layout
        nc = self._opts["n_candidates"]
        bwf = self._opts["bandwidth_factor"]
        mode = self.t_opts["mode"]
        if len(mix.models) == 1 and mix.w0 == 0 and mode != "product":
            parts = [lay.candidates(rng, mix.lead.good, nc, bwf)]
        else:
            probs = np.append(mix.w, mix.w0)
            probs = probs / probs.sum()
            u = rng.random(nc)
            pick = np.searchsorted(np.cumsum(probs), u, side="right")
            pick = np.minimum(pick, probs.size - 1)
            parts = []
            for j, m in enumerate(mix.models):
                c = int((pick == j).sum())
                if c:
                    parts.append(lay.candidates(rng, m.good, c, bwf))
            c0 = int((pick == len(mix.models)).sum())
            if c0:
                parts.append(np.array([self._encode(cf) for cf in self._random.draw(rng, c0)]))
        L = self.t_opts["local"]
        if L:
            st = self._stores[mix.lead.budget]
            order = np.argsort(st.losses[:st.n], kind="stable")[: self.t_opts["local_top"]]
            base = st.codes[order]
            dens = K._Density(base, mix.lead.good.bw, None)
            parts.append(lay.candidates(rng, dens, L, 1.0))
        codes = np.concatenate(parts)
        f = lay.features_of_points(codes)
        if mode == "product":
            score = np.zeros(codes.shape[0])
            for wb, m in zip(mix.w, mix.models):
                score += wb * self._ratio(m, codes, f)
            log_good = score  # liars handled below on top
            log_bad = np.zeros_like(score)
        else:
            lg, lb = [], []
            for wb, m in zip(mix.w, mix.models):
                lg.append(math.log(wb) + K._log_mean_exp(lay.log_kernels(f, codes, m.good)))
                lb.append(math.log(wb) + K._log_mean_exp(lay.log_kernels(f, codes, m.bad)))
            if mix.w0 > 0:
                lp = self._log_prior(codes) + math.log(mix.w0)
                lg.append(lp)
                lb.append(lp)
            log_good = np.logaddexp.reduce(np.array(lg), axis=0)
            log_bad = np.logaddexp.reduce(np.array(lb), axis=0)
        if liars:
            model = mix.lead
            data = np.array(liars)
            bw = model.good.bw.copy()
            bw[lay.cont] = np.maximum(K._LIAR_SHRINK * bw[lay.cont], self._opts["min_bandwidth"])
            extra = K._Density(data, bw, lay.features_of_centres(data, bw))
            log_liars = K._log_mean_exp(lay.log_kernels(f, codes, extra))
            n_bad, n_liars = model.bad.data.shape[0], data.shape[0]
            if mode == "product":
                log_bad0 = K._log_mean_exp(lay.log_kernels(f, codes, model.bad))
                log_bad = np.logaddexp(log_bad0 + math.log(n_bad), log_liars + math.log(n_liars)) \
                    - math.log(n_bad + n_liars) - log_bad0
            else:
                log_bad = np.logaddexp(log_bad + math.log(n_bad), log_liars + math.log(n_liars)) \
                    - math.log(n_bad + n_liars)
        score = log_good - log_bad
        best = int(np.argmax(score))
        row = codes[best]
        return self._decode(row), row


def recommended(space, **kw):
    """The formulation recommended by the 2026-12-07 experiment (see REPORT_trust.md):
    p from pairs measured at both budgets, w ~ max(0, 2p-1)^2 with the uniform prior as a
    pseudo-budget of p = 0.6, the top budget p = 1; the sampler keeps BOHB's rule (largest
    budget with a model) but vetoes a budget whose measured p < 0.5 (>= 5 pairs), falling to the
    next largest, and to uniform draws when every budget is vetoed. No local search."""
    return TrustKDE(space, mode="veto", pmeas="pairs", transform="tau2", prior=True, p0=0.6,
                    min_top=4, min_pairs=5, veto=0.5, **kw)
