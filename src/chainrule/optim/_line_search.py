"""Line searches on flat NumPy vectors, shared by LBFGS, BFGS and LineSearchGD.

``strong_wolfe`` finds a step ``t`` along a descent direction ``d`` satisfying the strong
Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6)::

    f(x + t d) <= f(x) + c1 t g^T d              (sufficient decrease)
    |g(x + t d)^T d| <= c2 |g(x)^T d|            (curvature)

first bracketing an interval that contains such a step (growing ``t`` by cubic
extrapolation), then zooming into it by safeguarded cubic interpolation.
"""

from __future__ import annotations

import math

import numpy as np


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """Minimizer of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clipped to
    ``bounds`` (default the interval between the points); the midpoint if it has none.

    With ``d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2)`` and ``d2 = sqrt(d1^2 - g1 g2)``, the
    minimizer is ``x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)`` (for x1 <= x2).
    """
    if bounds is not None:
        lo, hi = bounds
    else:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    d2_sq = d1 * d1 - g1 * g2
    if d2_sq >= 0:
        d2 = math.sqrt(d2_sq)
        if x1 <= x2:
            pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        else:
            pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        return float(min(max(pos, lo), hi))
    return (lo + hi) / 2.0


def strong_wolfe(obj, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Search along ``d`` from ``x`` (loss ``f``, gradient ``g``, slope ``gtd = g.d``).

    ``obj(x, t, d)`` returns ``(loss, flat_gradient)`` at ``x + t d``. Returns
    ``(f_new, g_new, t, n_evals)``.
    """
    d_norm = float(np.abs(d).max())
    f_new, g_new = obj(x, t, d)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    # bracketing phase
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            br_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, br_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            br_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate: the next trial lies in [t + 0.01 (t - t_prev), 10 t]
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo, hi))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
    if it == max_ls:
        br, br_f, br_g, br_gtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]

    # zoom phase: shrink the bracket until a point satisfies both conditions
    insufficient = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        # safeguard: stay at least 10% of the bracket away from its ends
        b_lo, b_hi = min(br), max(br)
        margin = 0.1 * (b_hi - b_lo)
        if min(b_hi - t, t - b_lo) < margin:
            if insufficient or t >= b_hi or t <= b_lo:
                t = b_hi - margin if abs(t - b_hi) < abs(t - b_lo) else b_lo + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = (
                    br[low], br_f[low], br_g[low], br_gtd[low])
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new, gtd_new
    return br_f[low], br_g[low], br[low], evals


def armijo_backtracking(obj, t, f, gtd, c1=1e-4, shrink=0.5, max_steps=50):
    """Largest ``t * shrink**k`` with ``obj(t) <= f + c1 t gtd`` (``gtd < 0`` the slope).

    ``obj(t)`` returns the loss at step ``t``. Returns ``(t, f_new, n_evals)``; if no
    step within ``max_steps`` decreases enough, returns ``(0.0, f, n_evals)``.
    """
    for k in range(1, max_steps + 1):
        f_new = obj(t)
        if f_new <= f + c1 * t * gtd:
            return t, f_new, k
        t *= shrink
    return 0.0, f, max_steps
