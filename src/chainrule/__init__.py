"""chainrule: a deep-learning framework on NumPy with PyTorch's API.

    import chainrule as cr
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    x.grad  # tensor([2., 4.])
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import _console  # noqa: F401  (first: Ctrl-C while the chainrule command imports)
from . import _gc  # noqa: F401  (young garbage collected less often while graphs grow)
from . import _malloc  # noqa: F401  (glibc keeps freed array memory for the next step)
from . import _quiet_numpy  # noqa: F401  (no NumPy floating-point warnings from inside)

from . import _dtype
from ._dtype import (  # noqa: F401
    bool_ as bool, double, dtype, float, float16, float32, float64, get_default_dtype, half,
    int, int8, int16, int32, int64, long, set_default_dtype, uint8,
)
from ._dtype import (  # noqa: F401  (names only: making such a tensor is a TypeError)
    bfloat16, cdouble, cfloat, chalf, complex32, complex64, complex128, uint16, uint32, uint64,
)
from .tensor import Size, Tensor  # noqa: F401
from . import autograd  # noqa: E402,F401
from .autograd.grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from . import _methods  # noqa: F401  (binds Tensor methods)
from ._legacy import (  # noqa: F401  (PyTorch's legacy and device API)
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
    LongTensor, ShortTensor, channels_last, channels_last_3d, contiguous_format,
    get_default_device, layout, memory_format, preserve_format, set_default_device,
    set_default_tensor_type, sparse_coo, strided,
)
from .functions.elementwise import *  # noqa: F401,F403  (one file per primitive kind)
from .functions.elementwise import pow, round  # noqa: F401
from .functions.unary import *  # noqa: F401,F403
from .functions.unary import abs  # noqa: F401
from .functions.reduction import *  # noqa: F401,F403
from .functions.reduction import all, any, max, min, sum  # noqa: F401
from .functions.shape import *  # noqa: F401,F403
from .functions.shape_index import *  # noqa: F401,F403
from .functions.linalg import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .linalg_ops import *  # noqa: F401,F403  (diag, tril, kron, cdist, ...)
from .functions.linalg_einsum import einsum  # noqa: F401  (ellipsis, diagonals, sublists)
from . import linalg  # noqa: E402,F401  (torch.linalg)
from . import return_types  # noqa: E402,F401  (torch.return_types)
from .linalg import det, logdet, slogdet  # noqa: F401
from .linalg import _cholesky_top as cholesky  # noqa: F401
from .linalg import inv as inverse  # noqa: F401
from .linalg import matrix_power  # noqa: F401
from .linalg_legacy import *  # noqa: F401,F403,E402  (torch.svd, qr, lu, pinverse, ...)
from .random import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
    set_rng_state,
)
from ._threads import get_num_threads, set_num_threads  # noqa: F401
from ._device import device  # noqa: F401
from . import accelerator, amp, backends, cuda, jit  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401
from . import utils  # noqa: E402,F401  (chainrule.utils.data, like torch.utils.data)
from . import data  # noqa: E402,F401  (chainrule.data: CSV and built-in datasets)
from . import nn  # noqa: E402,F401  (chainrule.nn, like torch.nn)
from . import optim  # noqa: E402,F401  (chainrule.optim, like torch.optim)
from . import profiler  # noqa: E402,F401  (torch.profiler: where the time goes)
from . import distributed  # noqa: E402,F401  (torch.distributed on MPI; mpi4py loads on init)
from . import distributions  # noqa: E402,F401  (torch.distributions)
from . import futures  # noqa: E402,F401  (torch.futures)
from .serialization import load, save  # noqa: E402,F401
from .nn.summary import summary  # noqa: E402,F401
from .nn._functional_act import erf  # noqa: E402,F401  (torch.erf)
from . import func, models  # noqa: E402,F401  (torch.func-style transforms; the model zoo)
from .func import vmap  # noqa: E402,F401  (torch.vmap)
from . import diagnostics, explain, train, viz  # noqa: E402,F401  (matplotlib/tqdm load lazily)
from . import multiprocessing  # noqa: E402,F401  (torch.multiprocessing; Tensor.share_memory_)
from .compiler import compile  # noqa: E402,F401,A004  (torch.compile)
from . import _dynamo  # noqa: E402,F401  (torch._dynamo)
from . import sparse  # noqa: E402,F401  (torch.sparse: COO tensors; Tensor.to_sparse, is_sparse)
from . import testing  # noqa: E402,F401  (torch.testing: assert_close, make_tensor)
from . import signal  # noqa: E402,F401  (torch.signal.windows)
from . import _absent_modules  # noqa: E402
_absent_modules.install(__name__)  # noqa: E402  (torch.fft, hub, ...: one clear error each)
from .sparse import sparse_coo_tensor, spmm  # noqa: E402,F401  (layouts: chainrule._legacy)
mm = sparse.dense_mm_dispatch(mm, "mm")  # noqa: E402,F405  (torch.mm takes a sparse left operand)
matmul = sparse.dense_mm_dispatch(matmul, "matmul")  # noqa: E402,F405  (likewise)
from .compiler.export import export  # noqa: E402,F401  (torch.export.export; .load, .save)
from . import onnx  # noqa: E402,F401  (torch.onnx; the onnx package loads on export)

_ = _dtype


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:  # noqa: A002
    return input.numel()


def is_floating_point(input) -> bool:  # noqa: A002
    return input.is_floating_point()


def clone(input):  # noqa: A002
    return input.clone()


def detach(input):  # noqa: A002
    return input.detach()


def from_dlpack(*_):
    raise NotImplementedError("from_dlpack is not supported")
from . import special  # noqa: E402,F401  (torch.special)
from .functions.elementwise_extra import *  # noqa: E402,F401,F403  (asin, atan2, nan_to_num, ...)
from .functions.special import *  # noqa: E402,F401,F403  (lgamma, digamma, erfinv, i0, ...)
from .functions.scan import *  # noqa: E402,F401,F403  (cumprod, cummax, logcumsumexp)
from .functions.reduction_extra import *  # noqa: E402,F401,F403  (median, quantile, ...)
from .functions.shape_search import *  # noqa: E402,F401,F403  (unique, bincount, searchsorted, take, ...)
from .functions.shape_layout import *  # noqa: E402,F401,F403  (ravel, atleast_2d, meshgrid, diff, rot90, ...)
from .indexing_extra import *  # noqa: E402,F401,F403  (scatter_reduce, index_put, ...)
from .functions.linalg_products import *  # noqa: E402,F401,F403  (tensordot, cov, trapezoid, ...)
from .creation_extra import *  # noqa: E402,F401,F403  (asarray, windows, poisson, ...)
from .dtype_info import *  # noqa: E402,F401,F403  (finfo, iinfo, promote_types, ...)
from .switches import *  # noqa: E402,F401,F403  (set_printoptions, determinism, ...)
from .toplevel_misc import *  # noqa: E402,F401,F403  (gradient, nonzero_static, abs_, ...)
from .toplevel_nn import *  # noqa: E402,F401,F403  (torch.conv2d, dropout, layer_norm, cpu, ...)
from . import _methods_extra  # noqa: E402,F401  (binds the Tensor methods of the above)
from . import _out_arg  # noqa: E402  (PyTorch's out= on the top-level functions that take it)
_out_arg.install(globals())  # noqa: E402
