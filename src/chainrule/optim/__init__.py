"""``chainrule.optim``: optimizers (PyTorch's, plus the course's GD, Momentum, Newton, BFGS
and LineSearchGD) and learning-rate schedulers."""

from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adafactor import Adafactor  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adam import Adam  # noqa: F401
from .adamw import AdamW  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .bfgs import BFGS  # noqa: F401
from .gd import GD  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .line_search_gd import LineSearchGD  # noqa: F401
from .momentum import Momentum  # noqa: F401
from .muon import Muon  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .newton import Newton  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .radam import RAdam  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .sgd import SGD  # noqa: F401
from .sparse_adam import SparseAdam  # noqa: F401
