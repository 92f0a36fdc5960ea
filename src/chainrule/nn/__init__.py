"""``chainrule.nn`` (``torch.nn``): modules, layers, activations, losses, init and utils."""

from __future__ import annotations

from . import functional, init, utils  # noqa: F401
from .activation import *  # noqa: F401,F403
from .attention import MultiheadAttention  # noqa: F401
from .container import (  # noqa: F401
    ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential,
)
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from .dropout import AlphaDropout, Dropout, FeatureAlphaDropout  # noqa: F401
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten  # noqa: F401
from .loss import *  # noqa: F401,F403
from .module import (  # noqa: F401
    Module, RemovableHandle, register_module_forward_hook, register_module_forward_pre_hook,
)
from .normalization import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm,
)
from .parameter import Buffer, Parameter  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .summary import summary  # noqa: F401

from .conv import *  # noqa: F401,F403,E402
from .pooling import *  # noqa: F401,F403,E402
from .rnn import *  # noqa: F401,F403,E402
from .spatial_extra import *  # noqa: F401,F403,E402  (Dropout1d/2d, Upsample, padding, Fold)
from .recurrent_course import EchoStateNetwork, LeakyRNN, SkipRNN  # noqa: F401,E402
from .residual import ResidualBlock  # noqa: F401,E402
from .transformer import *  # noqa: F401,F403,E402
from . import modules  # noqa: F401,E402  (PyTorch's nn.modules.<file> import paths)
from .parallel import DataParallel  # noqa: F401,E402  (and nn.parallel: DistributedDataParallel)
from .activation_extra import GLU, PReLU, RReLU, Softmax2d  # noqa: F401,E402
from .normalization_extra import *  # noqa: F401,F403,E402  (InstanceNorm*, LocalResponseNorm, RMSNorm, ...)
from .shuffle_bag import ChannelShuffle, EmbeddingBag, PixelShuffle, PixelUnshuffle  # noqa: F401,E402
from .loss_extra import *  # noqa: F401,F403,E402  (CTCLoss, TripletMarginLoss, SoftMarginLoss, ...)
from .conv3d import Conv3d, ConvTranspose3d  # noqa: F401,E402
from .pooling_extra import *  # noqa: F401,F403,E402  (3-D, LP, unpool and fractional pooling)
from .lazy import *  # noqa: F401,F403,E402  (LazyLinear, LazyConv*, LazyBatchNorm*, Uninitialized*)
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401,E402
from .syncbatchnorm import Container, SyncBatchNorm, factory_kwargs  # noqa: F401,E402
from . import common_types, grad  # noqa: F401,E402  (torch.nn.common_types, torch.nn.grad)
