"""``chainrule.nn.functional`` (``torch.nn.functional``): stateless layers, activations and
losses. ``import chainrule.nn.functional as F``.
"""

from __future__ import annotations

from ._functional_act import (  # noqa: F401
    celu, elu, erf, eswish, gelu, hardshrink, hardsigmoid, hardswish,
    hardtanh, leaky_relu, log_softmax, logsigmoid, maxout, mish, one_hot,
    piecewise_linear, relu, relu6, selu, sigmoid, sign, silu, softmax, softmin, softplus,
    softshrink, softsign, step, tanh, tanhshrink, threshold,
)
from ._functional_attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401,E501
from ._functional_distance import (  # noqa: F401
    cosine_similarity, normalize, pairwise_distance, pdist,
)
from ._functional_layers import (  # noqa: F401
    alpha_dropout, batch_norm, bilinear, dropout, embedding, group_norm, layer_norm, linear,
)
from ._functional_loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,
    cross_entropy, gaussian_nll_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss,
    mse_loss, multi_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss,
)

from ._spatial import *  # noqa: F401,F403,E402  (convolution, padding, unfold/fold)
from ._pooling_fn import (  # noqa: F401,E402
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
)
from ._interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: F401,E402
from ._dropout_nd import dropout1d, dropout2d, dropout3d  # noqa: F401,E402
from ._functional_act_extra import *  # noqa: F401,F403,E402  (glu, prelu, rrelu, gumbel_softmax, relu_, ...)
from ._functional_norm import instance_norm, local_response_norm, rms_norm  # noqa: F401,E402
from ._functional_layers_extra import *  # noqa: F401,F403,E402  (pixel_shuffle, embedding_bag, ...)
from ._functional_loss_extra import *  # noqa: F401,F403,E402  (ctc_loss, triplet_margin_loss, ...)
from ._conv3d_fn import conv3d, conv_tbc, conv_transpose3d  # noqa: F401,E402
from ._pooling3d_fn import *  # noqa: F401,F403,E402  (max/avg/adaptive 3-D pooling, lp_pool*)
from ._unpool_fn import *  # noqa: F401,F403,E402  (max_unpool*, fractional_max_pool*)
from ._grid_fn import affine_grid, grid_sample  # noqa: F401,E402
from ._functional_misc import *  # noqa: F401,F403,E402  (grouped_mm, boolean_dispatch, ...)
from ._functional_misc import Callable, DType, Optional  # noqa: F401,E402
from ..tensor import Tensor  # noqa: F401,E402
