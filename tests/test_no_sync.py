"""A training step never reads a tensor's value on the host to check it.

On a GPU, ``.item()``, ``.tolist()``, ``bool(t)``, ``float(t)``, ``int(t)`` and using a
tensor as an index wait for the device to finish. The loss classes check shapes, dtypes
and keys (host metadata) and nothing else; here every such read raises, on the CPU.
"""

import pytest
import torch

import centernet_edu as ce
from centernet_edu.targets import gather_feat

READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__")


class HostRead(AssertionError):
    pass


def refuse_host_reads(monkeypatch):
    """Make every read of ``READS`` raise, until ``monkeypatch.undo()``."""

    def refuse(name):
        def read(self, *args, **kwargs):
            raise HostRead(f"Tensor.{name} read a value on the host")

        return read

    for name in READS:
        monkeypatch.setattr(torch.Tensor, name, refuse(name))


@pytest.fixture
def no_host_reads(monkeypatch):
    refuse_host_reads(monkeypatch)


def ctdet():
    t = ce.encode_ctdet([[2, 3, 12.5, 10], [1, 1, 6, 7]], [0, 2], 3, (16, 16), max_objs=8)
    batch = {k: torch.stack([v, v]) for k, v in t.items()}
    g = torch.Generator().manual_seed(0)
    outputs = {k: torch.randn(2, c, 16, 16, generator=g) for k, c in (("hm", 3), ("wh", 2))}
    outputs["reg"] = torch.rand(2, 2, 16, 16, generator=g)
    return outputs, batch


def exdet():
    t = ce.encode_exdet([[5, 2, 2, 6, 6, 10, 10, 5]], [1], 3, (16, 16), max_objs=8)
    batch = {k: torch.stack([v, v]) for k, v in t.items()}
    g = torch.Generator().manual_seed(1)
    outputs = {f"hm_{p}": torch.randn(2, 3, 16, 16, generator=g) for p in "tlbrc"}
    outputs.update({f"reg_{p}": torch.rand(2, 2, 16, 16, generator=g) for p in "tlbr"})
    return outputs, batch


def test_the_patch_catches_host_reads(no_host_reads):
    x = torch.ones(2)
    for read in (lambda: x.sum().item(), x.tolist, lambda: bool(x[0]), lambda: float(x[0])):
        with pytest.raises(HostRead):
            read()


@pytest.mark.parametrize("make, loss_fn", [(ctdet, ce.CenterNetLoss), (exdet, ce.ExtremeNetLoss)])
def test_a_loss_forward_and_backward_read_nothing_on_the_host(make, loss_fn, monkeypatch):
    outputs, batch = make()
    outputs = {k: v.requires_grad_() for k, v in outputs.items()}
    loss_module = loss_fn()
    refuse_host_reads(monkeypatch)
    loss, stats = loss_module(outputs, batch)
    loss.backward()
    monkeypatch.undo()
    assert torch.isfinite(loss) and set(stats) >= {"loss", "hm_loss", "off_loss"}
    assert all(torch.isfinite(v.grad).all() for v in outputs.values())


def test_gather_feat_reads_nothing_on_the_host(monkeypatch):
    feat = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    ind = torch.tensor([[0, 7, 19], [3, 3, 12]])
    want = torch.stack([feat[b].flatten(1)[:, ind[b]].T for b in range(2)])
    refuse_host_reads(monkeypatch)
    got = gather_feat(feat, ind)
    monkeypatch.undo()
    assert torch.equal(got, want)


def test_a_non_finite_logit_still_gives_nan_without_a_host_read(monkeypatch):
    outputs, batch = ctdet()
    outputs["hm"][0, 1, 2, 3] = torch.inf
    refuse_host_reads(monkeypatch)
    loss, _ = ce.CenterNetLoss()(outputs, batch)
    monkeypatch.undo()
    assert torch.isnan(loss)
