"""The decoder's transposed convolution: nn.ConvTranspose2d's parameters and result, computed faster on a CPU."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# A 4x4, stride-2, padding-1 transposed convolution doubles the size: output row 2m + a takes kernel row k from
# input row m + d, for (k, d) in TAPS[a]; the same for columns.
TAPS = {0: ((1, 0), (3, -1)), 1: ((2, 0), (0, 1))}


class ConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d (same parameters, same result) with two changes in how it is computed, both for a CPU.

    - The bias is added after the convolution, where a plain sum gives its gradient: PyTorch's CPU backward of a
      transposed convolution computes the bias gradient far slower than that sum.
    - The last layer (4x4, stride 2, to one channel), in float32, runs forward as ``phase_conv_transpose``: for so
      few output channels oneDNN's kernel is slower than a 1x1 convolution plus shifted adds. Its backward is
      PyTorch's own.

    docs/performance.md has the measurements.
    """

    def forward(self, x):
        if self._by_phases(x):
            y = PhaseConvTranspose.apply(x, self.weight)
        else:
            y = F.conv_transpose2d(
                x, self.weight, None, self.stride, self.padding, self.output_padding, self.groups, self.dilation
            )
        return y if self.bias is None else y + self.bias.to(y.dtype).view(1, -1, 1, 1)

    def _by_phases(self, x) -> bool:
        return (
            self.out_channels == 1
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")  # a 4-term sum rounded to bfloat16 three times: no
            and not torch.compiler.is_compiling()  # tracing its 16 slice adds doubles the compile time
            and self.kernel_size == (4, 4)
            and self.stride == (2, 2)
            and self.padding == (1, 1)
            and self.output_padding == (0, 0)
            and self.dilation == (1, 1)
            and self.groups == 1
        )


def phase_conv_transpose(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, stride=2, padding=1)`` for a 4x4 kernel, without bias, by phases.

    A 1x1 convolution gives every input pixel's 16 products with the kernel (per output channel); each of the
    output's four phases (row and column parity) is then the sum of four of them, from the pixel and its
    neighbours.
    """
    batch, c_in, height, width = x.shape
    c_out = weight.shape[1]
    taps = F.conv2d(x, weight.reshape(c_in, c_out * 16).t().reshape(c_out * 16, c_in, 1, 1))  # x's memory format
    taps = taps.unflatten(1, (c_out, 4, 4))  # [batch, c_out, kernel row, kernel column, height, width]
    out = x.new_empty(batch, c_out, height, 2, width, 2)
    for a, ((k0, _), (k1, d)) in TAPS.items():
        rows, source_rows = _shifted(d)
        for b, ((j0, _), (j1, e)) in TAPS.items():
            cols, source_cols = _shifted(e)
            phase = out[:, :, :, a, :, b]
            phase.copy_(taps[:, :, k0, j0])
            phase[:, :, rows] += taps[:, :, k1, j0, source_rows]
            phase[:, :, :, cols] += taps[:, :, k0, j1, :, source_cols]
            phase[:, :, rows, cols] += taps[:, :, k1, j1, source_rows, source_cols]
    return out.view(batch, c_out, 2 * height, 2 * width)


def _shifted(d: int) -> tuple[slice, slice]:
    """The output rows that a tap from input row m + d reaches, and those input rows."""
    return (slice(1, None), slice(None, -1)) if d < 0 else (slice(None, -1), slice(1, None))


class PhaseConvTranspose(torch.autograd.Function):
    """``phase_conv_transpose`` forward; PyTorch's own transposed-convolution backward, which is fast here."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight):
        return phase_conv_transpose(x, weight)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x, grad_weight, _ = torch.ops.aten.convolution_backward(
            grad,
            x,
            weight,
            None,
            [2, 2],
            [1, 1],
            [1, 1],
            True,
            [0, 0],
            1,
            [ctx.needs_input_grad[0], ctx.needs_input_grad[1], False],
        )
        return grad_x, grad_weight
