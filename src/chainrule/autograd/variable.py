"""``chainrule.autograd.variable``: the deprecated ``Variable`` (see ``chainrule._legacy``)."""

from .._legacy import Variable  # noqa: F401
