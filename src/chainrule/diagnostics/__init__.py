"""``chainrule.diagnostics``: what went wrong in training, and what kind of point this is.

* ``GradientMonitor`` — a ``fit`` callback: per-layer gradient/weight norms, vanishing and
  exploding gradients, dead ReLU units.
* ``check_loss_curve(history)`` — divergence, NaN, oscillation, plateau, overfitting, each
  with a suggested change; ``"ok"`` when healthy.
* ``stationary_point(loss_fn, params)`` — gradient norm and extreme Hessian eigenvalues
  (Lanczos on Hessian-vector products): minimum, maximum, saddle, degenerate or not
  stationary.
"""

from .gradients import GradientMonitor
from .loss_curve import Finding, check_loss_curve
from .stationary import StationaryPoint, hessian_eigenvalues, lanczos, stationary_point

__all__ = ["Finding", "GradientMonitor", "StationaryPoint", "check_loss_curve",
           "hessian_eigenvalues", "lanczos", "stationary_point"]
