"""chainrule's primitives: every differentiable operation, and nothing else.

Vocabulary used by every rule below (one meaning each):

* ``x``, ``y``      primal inputs (NumPy arrays inside ``forward``; tensors when saved)
* ``out``           the forward result
* ``grad``          the incoming cotangent dL/d(out) (a tensor) in ``backward`` (the VJP)
* ``x_dot``         the tangent of ``x`` in ``jvp`` (a tensor, zeros when ``x`` has none;
                    None for non-tensor arguments such as Python scalars or axes)

``forward`` computes with NumPy; ``backward`` and ``jvp`` compose tensor operations, so they
can themselves be differentiated (``create_graph=True``). Gradients of broadcast inputs are
summed back to the input's shape once, by the engine, never inside a rule. TanhGrad,
SigmoidGrad and ReluGrad are the fused backward nodes of Tanh, Sigmoid and Relu (one node,
still differentiable).

The primitives, by kind (everything else in chainrule is composed from these):

elementwise  Add Sub Mul Div Neg Pow Maximum Minimum Where Clamp Cast ZeroGrad
unary        Exp Expm1 Log Log1p Sqrt Sin Cos Tan Tanh Sigmoid Relu Abs TanhGrad SigmoidGrad
             ReluGrad
             (ops/unary.py)
reduction    Sum Mean Amax Amin Prod Cumsum LogSumExp Softmax LogSoftmax
shape        Reshape Permute Expand Flip Cat Getitem IndexAdd IndexPut CopySlices Gather
             ScatterAdd
linalg       MatMul Linear
conv         Conv2d ConvInputGrad ConvWeightGrad Unfold Fold Pad
pool         MaxPool2d WindowGather WindowScatter
nn           CrossEntropy BCEWithLogits BinaryCrossEntropy Erf   (ops/nn_ops.py)
recurrent    RNNLayer   (ops/rnn_ops.py: a whole RNN/LSTM/GRU layer, time loop in NumPy)
ctc          CTCLoss CTCGrad   (ops/ctc.py: the CTC forward-backward dynamic programme)
linalg+      Inverse Det SlogDet Solve Cholesky Eigh   (ops/linalg_np.py: numpy.linalg)
             SVD QR Pinv Lstsq   (ops/linalg_decomp.py)
             SolveTriangular LUFactor PivotsToPermutation   (ops/linalg_lu.py: NumPy loops)
             MatrixExp   (ops/matrix_fn.py: scaling and squaring, Pade 13)
             LDLFactor LDLSolve   (ops/linalg_ldl.py: Bunch-Kaufman; no derivative)
elementwise+ Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Exp2 Atan2 Hypot LogAddExp
             (ops/elementwise_extra.py)
scan         Cumprod LogCumSumExp LogCumSumExpGrad   (ops/scan.py)
special      Lgamma Digamma Polygamma Erfc Erfcx Erfinv Ndtr Ndtri LogNdtr Entr I0 I1 I0e I1e
             Zeta Gammainc   (ops/special.py; their NumPy math in special_np.py, erf_np.py,
             bessel_np.py, float64-accurate, since NumPy has none of these functions)

The core kinds (elementwise to linalg) are checked by the table of tests/ops; the layer kinds
by their own tests in tests/nn (naive loops, gradcheck, PyTorch oracle).
"""

from .elementwise import (  # noqa: F401
    Add, Cast, Clamp, Div, Maximum, Minimum, Mul, Neg, Pow, Sub, Where, ZeroGrad,
)
from .unary import (  # noqa: F401
    Abs, Cos, Exp, Expm1, Log, Log1p, Relu, ReluGrad, Sigmoid, SigmoidGrad, Sin, Sqrt, Tan, Tanh,
    TanhGrad,
)
from .conv import Conv2d, ConvInputGrad, ConvWeightGrad, Fold, Pad, Unfold  # noqa: F401
from .linalg import Linear, MatMul  # noqa: F401
from .pool import MaxPool2d, WindowGather, WindowScatter  # noqa: F401
from .reduction import (  # noqa: F401
    Amax, Amin, Cumsum, LogSoftmax, LogSumExp, Mean, Prod, Softmax, Sum,
)
from .shape import (  # noqa: F401
    Cat, CopySlices, Expand, Flip, Gather, Getitem, IndexAdd, IndexPut, Permute, Reshape,
    ScatterAdd,
)
from . import _array_rules  # noqa: F401,E402  (marks the rules the engine runs on arrays)
