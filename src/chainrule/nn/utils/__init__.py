"""``chainrule.nn.utils``: gradient clipping and parameter/vector conversion."""

from __future__ import annotations

from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import rnn  # noqa: F401,E402  (nn.utils.rnn: padding and packing of sequences)
from .rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence  # noqa: F401,E402
from .rnn import pack_sequence, pad_sequence, unpack_sequence, unpad_sequence  # noqa: F401,E402
from .gradient_regularizer import rnn_step, vanishing_gradient_regularizer  # noqa: F401,E402
from .clip_grad import clip_grad_norm, clip_grads_with_norm_  # noqa: F401,E402
from . import fusion, parametrizations, parametrize, prune, stateless  # noqa: F401,E402
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights  # noqa: F401,E402
from .fusion import fuse_linear_bn_eval, fuse_linear_bn_weights  # noqa: F401,E402
from .init import skip_init  # noqa: F401,E402
from .memory_format import convert_conv2d_weight_memory_format  # noqa: F401,E402
from .memory_format import convert_conv3d_weight_memory_format  # noqa: F401,E402
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401,E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401,E402
