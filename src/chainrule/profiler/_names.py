"""The names PyTorch's profiler shows for chainrule's primitives.

Each primitive maps to the ATen operator PyTorch records for the same call; where PyTorch
records a chain (``aten::linear`` calling ``aten::addmm``), the primitive's event is that
chain of nested ranges with the same span. A primitive with no clear ATen counterpart is
``chainrule::<Name>``. Backward nodes keep chainrule's ``<Name>Backward0`` except where
PyTorch's node for the same call has another name (``AddmmBackward0``).
"""

from __future__ import annotations

_SAME = (  # the primitive's name in lower case is the ATen name
    "Abs Acos Acosh Add Amax Amin Asin Asinh Atan Atan2 Atanh Cat Cos Cosh Cumprod Cumsum "
    "Digamma Div Erf Erfc Erfinv Exp Exp2 Expand Expm1 Flip Gather Hypot I0 Lgamma Log Log1p "
    "LogAddExp LogSumExp Maximum Minimum Mul Neg Permute Polygamma Pow Prod Reshape Sigmoid "
    "Sin Sinh Sqrt Sub Sum Tan Tanh Where Clamp"
).split()

ATEN = {name: ("aten::" + name.lower(),) for name in _SAME}
ATEN.update({
    "Relu": ("aten::relu", "aten::clamp_min"),
    "ReluGrad": ("aten::threshold_backward",),
    "SigmoidGrad": ("aten::sigmoid_backward",),
    "TanhGrad": ("aten::tanh_backward",),
    "Softmax": ("aten::softmax", "aten::_softmax"),
    "LogSoftmax": ("aten::log_softmax", "aten::_log_softmax"),
    "LogCumSumExp": ("aten::logcumsumexp",),
    "Conv2d": ("aten::conv2d", "aten::convolution"),
    "ConvInputGrad": ("aten::convolution_backward",),
    "ConvWeightGrad": ("aten::convolution_backward",),
    "MaxPool2d": ("aten::max_pool2d", "aten::max_pool2d_with_indices"),
    "Cast": ("aten::to", "aten::_to_copy"),
    "Pad": ("aten::pad", "aten::constant_pad_nd"),
    "ScatterAdd": ("aten::scatter_add",),
    "IndexAdd": ("aten::index_add",),
    "IndexPut": ("aten::index_put_",),
    "CrossEntropy": ("aten::cross_entropy_loss",),
    "BCEWithLogits": ("aten::binary_cross_entropy_with_logits",),
    "BinaryCrossEntropy": ("aten::binary_cross_entropy",),
    "CTCLoss": ("aten::ctc_loss",),
    "Erfcx": ("aten::special_erfcx",),
    "I0e": ("aten::special_i0e",),
    "I1": ("aten::special_i1",),
    "I1e": ("aten::special_i1e",),
    "Ndtr": ("aten::special_ndtr",),
    "Ndtri": ("aten::special_ndtri",),
    "LogNdtr": ("aten::special_log_ndtr",),
    "Entr": ("aten::special_entr",),
    "Zeta": ("aten::special_zeta",),
    "Gammainc": ("aten::special_gammainc",),
    "Det": ("aten::linalg_det",),
    "SlogDet": ("aten::linalg_slogdet",),
    "Inverse": ("aten::linalg_inv",),
    "Cholesky": ("aten::linalg_cholesky",),
    "QR": ("aten::linalg_qr",),
    "SVD": ("aten::linalg_svd",),
    "Eigh": ("aten::linalg_eigh",),
    "Solve": ("aten::linalg_solve",),
    "SolveTriangular": ("aten::linalg_solve_triangular",),
    "Lstsq": ("aten::linalg_lstsq",),
    "Pinv": ("aten::linalg_pinv",),
    "MatrixExp": ("aten::linalg_matrix_exp",),
    "LUFactor": ("aten::linalg_lu_factor_ex",),
    "Unfold": ("aten::im2col",),
    "Fold": ("aten::col2im",),
    "SparseMM": ("aten::_sparse_mm",),
})

BACKWARD = {"Linear": "AddmmBackward0", "MatMul": "MmBackward0", "Conv2d":
            "ConvolutionBackward0", "Relu": "ReluBackward0", "Cast": "ToCopyBackward0",
            "Getitem": "IndexBackward0", "Permute": "PermuteBackward0"}


def _mm(a, b):
    """PyTorch's kernel for ``a @ b`` by the ranks of the operands."""
    if a == 1 and b == 1:
        return "aten::dot"
    if a == 2 and b == 1:
        return "aten::mv"
    if a <= 2 and b <= 2:
        return "aten::mm"
    return "aten::bmm"


def _ndim(x):
    d = getattr(x, "_data", None)
    return d.ndim if d is not None else getattr(x, "ndim", 0)


def op_names(cls, args, backward: bool) -> tuple:
    """The (nested) event names of one call ``cls.apply(*args)``."""
    name = cls.__name__
    if name == "Linear":
        if len(args) > 2 and args[2] is not None:
            return ("aten::linear", "aten::addmm")
        return ("aten::linear", "aten::matmul", "aten::mm")
    if name == "MatMul":
        kernel = _mm(_ndim(args[0]), _ndim(args[1]))
        return (kernel,) if backward else ("aten::matmul", kernel)
    names = ATEN.get(name)
    if names is not None:
        return names
    if getattr(cls, "_arrays", False):
        return ("chainrule::" + name.lstrip("_"),)
    return (name,)  # a user Function: PyTorch shows its class name


def node_name(node) -> str:
    """The name of a backward node's event (``ReluBackward0``)."""
    return BACKWARD.get(type(node).__name__) or node.name()
