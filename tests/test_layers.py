import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from dislab.models import layers
from dislab.models.layers import ConvTranspose2d, phase_conv_transpose
from dislab.models.networks import VAE


@pytest.mark.parametrize("c_out", [32, 1])
@pytest.mark.parametrize("channels_last", [False, True])
def test_our_transposed_convolution_equals_nn_convtranspose2d(c_out, channels_last):
    torch.manual_seed(0)
    assert ConvTranspose2d(32, c_out, 4, bias=False)(torch.randn(1, 32, 4, 4)).shape == (1, c_out, 7, 7)
    ours = ConvTranspose2d(32, c_out, 4, stride=2, padding=1)
    torch.nn.init.normal_(ours.bias)  # not the zeros of kaiming_init: the bias must show in the output
    stock = torch.nn.ConvTranspose2d(32, c_out, 4, stride=2, padding=1)
    stock.load_state_dict(ours.state_dict())
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(8, 32, 16, 16).contiguous(memory_format=memory_format)
    upstream = torch.randn(8, c_out, 32, 32)
    outputs, grads = [], []
    for layer in (ours, stock):
        xx = x.clone().requires_grad_()
        y = layer(xx)
        y.backward(upstream)
        outputs.append(y)
        grads.append([xx.grad, layer.weight.grad, layer.bias.grad])
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    for ours_grad, stock_grad in zip(*grads):  # sums of thousands of terms, added in another order
        torch.testing.assert_close(ours_grad, stock_grad, rtol=1e-5, atol=1e-5 * stock_grad.abs().max().item())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert ours(x).dtype == stock(x).dtype == torch.bfloat16


@pytest.mark.parametrize("c_out", [1, 3])
@pytest.mark.parametrize("channels_last", [False, True])
def test_the_transposed_convolution_by_phases_is_exact(c_out, channels_last):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 5, 6, 9, dtype=torch.float64, generator=gen)  # not square: rows and columns not mixed up
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    weight = torch.randn(5, c_out, 4, 4, dtype=torch.float64, generator=gen)
    expected = F.conv_transpose2d(x, weight, stride=2, padding=1)
    torch.testing.assert_close(phase_conv_transpose(x, weight), expected, rtol=1e-12, atol=1e-12)


def _count_phase_calls(monkeypatch):
    calls = []
    apply = layers.PhaseConvTranspose.apply
    monkeypatch.setattr(layers.PhaseConvTranspose, "apply", lambda *args: calls.append(1) or apply(*args))
    return calls


def test_only_the_last_decoder_layer_goes_by_phases_and_only_in_float32_on_a_cpu(monkeypatch):
    calls = _count_phase_calls(monkeypatch)
    model = VAE(10)
    model.decoder(torch.randn(2, 10))
    assert len(calls) == 1  # three 32-channel layers stay with PyTorch's kernel
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bfloat16: PyTorch's kernel, which rounds once
        model.decoder(torch.randn(2, 10))
    model.double().decoder(torch.randn(2, 10, dtype=torch.float64))
    assert len(calls) == 1


def test_the_layer_by_phases_runs_under_vmap_with_the_gradients_of_each_layer_alone(monkeypatch):
    calls = _count_phase_calls(monkeypatch)
    torch.manual_seed(0)
    stack = [ConvTranspose2d(4, 1, 4, stride=2, padding=1) for _ in range(3)]
    params, _ = stack_module_state(stack)
    x = torch.randn(3, 2, 4, 5, 5)
    upstream = torch.randn(3, 2, 1, 10, 10)
    out = vmap(lambda p, xx: functional_call(stack[0], p, (xx,)))(params, x)
    out.backward(upstream)
    assert calls
    for i, layer in enumerate(stack):
        alone = layer(x[i])
        alone.backward(upstream[i])
        torch.testing.assert_close(out[i], alone, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(params["weight"].grad[i], layer.weight.grad, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(params["bias"].grad[i], layer.bias.grad, rtol=1e-5, atol=1e-5)
