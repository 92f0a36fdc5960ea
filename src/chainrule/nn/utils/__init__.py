"""``chainrule.nn.utils``: gradient clipping and parameter/vector conversion."""

from __future__ import annotations

from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import rnn  # noqa: F401,E402  (nn.utils.rnn: padding and packing of sequences)
from .rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence  # noqa: F401,E402
from .rnn import pack_sequence, pad_sequence, unpack_sequence, unpad_sequence  # noqa: F401,E402
from .gradient_regularizer import rnn_step, vanishing_gradient_regularizer  # noqa: F401,E402
