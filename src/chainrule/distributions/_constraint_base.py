"""The ``Constraint`` base class (see ``chainrule.distributions.constraints``)."""

from __future__ import annotations


class Constraint:
    """A region over which a variable is valid. ``event_dim``: how many rightmost dims
    make one event; ``check`` reduces over them."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """A bool tensor: whether each event of ``value`` satisfies the constraint."""
        raise NotImplementedError

    def _all_valid(self, arr):
        """Fast path for validation: whether every element of the NumPy array ``arr``
        satisfies the constraint, or None when only ``check`` can tell."""
        return None

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"
