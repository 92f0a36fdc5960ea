"""Errors teach: the exact text of the core's error messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr


def _raises(exc, text):
    """pytest.raises matching ``text`` exactly (not as a regular expression)."""
    return pytest.raises(exc, match="^" + re.escape(text) + "$")


def test_matmul_inner_dimension_mismatch():
    with _raises(RuntimeError, "matmul: (32, 13) @ (12, 64): inner dimensions 13 and 12 differ"):
        cr.randn(32, 13) @ cr.randn(12, 64)


def test_matmul_batch_dimensions_that_do_not_broadcast():
    with _raises(RuntimeError, "matmul: (2, 3, 4) @ (5, 4, 6): batch dimensions (2,) and (5,) "
                               "don't broadcast"):
        cr.matmul(cr.randn(2, 3, 4), cr.randn(5, 4, 6))


def test_matmul_of_a_scalar():
    with _raises(RuntimeError, "matmul: both arguments need at least 1 dimension, got shapes () "
                               "and (3,)"):
        cr.matmul(cr.tensor(2.0), cr.randn(3))


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a * b, "mul"),
                                      (lambda a, b: a - b, "sub"), (lambda a, b: a / b, "div")])
def test_broadcasting_error_names_op_shapes_and_dimension(op, name):
    with _raises(RuntimeError, f"{name}: shapes (3, 4) and (5, 4) don't broadcast: at dimension "
                               "-2 the sizes are 3 and 5 (they must be equal, or one of them 1)"):
        op(cr.randn(3, 4), cr.randn(5, 4))


def test_where_broadcasting_error():
    with _raises(RuntimeError, "where: shapes (3,) and (2,) don't broadcast: at dimension -1 the "
                               "sizes are 3 and 2 (they must be equal, or one of them 1)"):
        cr.where(cr.tensor([True, False, True]), cr.randn(3), cr.randn(2))


def test_second_backward_through_a_freed_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with _raises(RuntimeError, "MulBackward0: trying to backward through the graph a second time "
                 "(or to read saved tensors after they were freed). Saved intermediate values "
                 "are freed after .backward() or autograd.grad(); pass retain_graph=True to the "
                 "first call if you need to backward through the graph again."):
        y.backward()


def test_in_place_modification_of_a_saved_tensor():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = w * 2
    b = a * a  # saves a
    with cr.no_grad():
        a.add_(1.0)
    with _raises(RuntimeError, "MulBackward0: one of the variables needed for gradient "
                 "computation has been modified by an inplace operation (add_): "
                 "[chainrule.FloatTensor [2]], which is output 0 of MulBackward0, is at version 1; "
                 "expected version 0 instead. Use the out-of-place form, or .clone() the tensor "
                 "before modifying it in place."):
        b.sum().backward()


def test_in_place_update_of_a_leaf_saved_by_w_times_w():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with cr.no_grad():
        w.sub_(0.1 * cr.ones(2))  # an optimizer step before backward
    with _raises(RuntimeError, "MulBackward0: one of the variables needed for gradient "
                 "computation has been modified by an inplace operation (sub_): "
                 "[chainrule.FloatTensor [2]] is at version 1; expected version 0 instead. Use the "
                 "out-of-place form, or .clone() the tensor before modifying it in place."):
        y.backward()


def test_setitem_on_a_saved_tensor_is_detected_too():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = w * 2
    b = a * a
    a[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_in_place_op_on_a_leaf_that_requires_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with _raises(RuntimeError, "add_: a leaf Variable that requires grad is being used in an "
                               "in-place operation; wrap the update in `with chainrule.no_grad():` "
                               "(or use the out-of-place form, or clone() it first)"):
        w.add_(1.0)
    with _raises(RuntimeError, "setitem: a leaf Variable that requires grad is being used in an "
                               "in-place operation; wrap the update in `with chainrule.no_grad():` "
                               "(or use the out-of-place form, or clone() it first)"):
        w[0] = 1.0
    with cr.no_grad():
        w.add_(1.0)  # the optimizer's way
    np.testing.assert_array_equal(w.detach().numpy(), [2.0, 3.0])


def test_in_place_op_on_a_non_leaf_in_the_graph_is_recorded():
    w = cr.tensor([1.0], requires_grad=True)
    a = w * 2
    a.mul_(3.0)
    assert a.grad_fn.name() == "MulBackward0" and a.item() == 6.0
    a.backward()
    assert w.grad.item() == 6.0


def test_non_scalar_backward_without_gradient():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    with _raises(RuntimeError, "backward: grad can be implicitly created only for scalar outputs, "
                 "but the output has shape (2,); pass a gradient of that shape "
                 "(out.backward(gradient=chainrule.ones_like(out))) or reduce the output first "
                 "(out.sum().backward())"):
        y.backward()


def test_backward_gradient_of_the_wrong_shape():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    with _raises(RuntimeError, "backward: mismatch in shape: gradient has shape (3,) but the "
                               "output has shape (2,)"):
        y.backward(cr.ones(3))


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        cr.ones(1).sum().backward()


def test_requires_grad_on_an_int_tensor():
    text = ("requires_grad_: only floating-point tensors can require gradients, but this tensor "
            "has dtype chainrule.int64; convert it first, e.g. t.float()")
    with _raises(RuntimeError, text):
        cr.tensor([1, 2], requires_grad=True)
    with _raises(RuntimeError, text):
        cr.arange(3).requires_grad_()


def test_item_of_a_multi_element_tensor():
    with _raises(RuntimeError, "item: a Tensor with 3 elements cannot be converted to a Python "
                               "scalar (only one-element tensors can)"):
        cr.zeros(3).item()


def test_numpy_of_a_tensor_that_requires_grad():
    with _raises(RuntimeError, "numpy: can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy() instead"):
        cr.zeros(3, requires_grad=True).numpy()


def test_shape_errors():
    with _raises(RuntimeError, "reshape: shape [4, 2] is invalid for input of size 6 (input shape "
                               "(2, 3))"):
        cr.zeros(2, 3).reshape(4, 2)
    with _raises(RuntimeError, "cat: sizes of tensors must match except in dimension 0: tensor 0 "
                               "has shape (2, 3) but tensor 1 has shape (2, 4)"):
        cr.cat([cr.zeros(2, 3), cr.zeros(2, 4)])
    for ts, k in (([cr.tensor(1.0), cr.tensor(2.0)], 0), ([cr.ones(2), cr.tensor(2.0)], 1)):
        with _raises(RuntimeError, f"cat: zero-dimensional tensor (at position {k}) cannot be "
                                   "concatenated; give it a dim first, e.g. t.view(1)"):
            cr.cat(ts)
    with _raises(IndexError, "sum: dimension out of range (expected to be in range of [-2, 1], "
                             "but got 2)"):
        cr.zeros(2, 3).sum(2)


def test_anomaly_in_forward_names_the_primitive_and_input_ranges():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    with cr.autograd.detect_anomaly(), np.errstate(invalid="ignore"):
        with _raises(RuntimeError, "anomaly: Log produced NaN in its forward output 0 (input 0: "
                                   "shape (2,), range [-1, 1])"):
            x.log()


def test_anomaly_in_backward_names_the_primitive_inputs_and_creation_line():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt()  # the creation line
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert msg.startswith("anomaly: SqrtBackward0 returned Inf in the gradient for input 0 "
                          "(shape (2,), range [0.25, inf]); the forward Sqrt had input 0: shape "
                          "(2,), range [0, 4]. It was created at:\n  File ")
    assert __file__ in msg
    assert msg.endswith("in test_anomaly_in_backward_names_the_primitive_inputs_and_creation_line"
                        "\n    y = x.sqrt()  # the creation line")


def test_anomaly_mode_is_off_outside_the_block():
    assert not cr.autograd.is_anomaly_enabled()
    with cr.autograd.detect_anomaly():
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()
    with np.errstate(invalid="ignore"):
        assert np.isnan(cr.tensor([-1.0]).log().item())  # no error without anomaly mode
