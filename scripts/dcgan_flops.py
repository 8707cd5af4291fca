#!/usr/bin/env python3
"""FLOPs of one image's share of a DCGAN training step (the nets of
../shared/bench/dcgan_ref.py at --size/--channels/--width), printed as one
number. Multiply-adds of every convolution are counted from the layer shapes
(2 FLOPs each); one step costs, per image:

  G: forward once, backward (input and weight gradients) = 3 G passes;
  D: forward on real, on fake for D's update and again for G's = 3 passes;
     backward of D's update on real and fake (weight and input gradients)
     = 4, and of G's update through D = 2; 9 D passes in all.

Element-wise layers (batch norm, activations) and Adam are left out, so this
is a lower bound on the work, and a GFLOP/s figure from it is conservative.
"""
import argparse, importlib.util, os

import torch

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("ref", os.path.join(here, "..", "..", "shared", "bench", "dcgan_ref.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


def macs(net, x):
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            total[0] += out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, torch.nn.ConvTranspose2d):
            total[0] += inp[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        y = net(x)
    for h in hs:
        h.remove()
    return total[0], y


p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=28)
p.add_argument("--channels", type=int, default=1)
p.add_argument("--width", type=int, default=64)
p.add_argument("--nz", type=int, default=100)
a = p.parse_args()
g = ref.generator(a.nz, a.size, a.channels, a.width)
d = ref.discriminator(a.size, a.channels, a.width)
g_macs, img = macs(g.eval(), torch.randn(1, a.nz, 1, 1))
d_macs, _ = macs(d.eval(), img)
print(2 * (3 * g_macs + 9 * d_macs))
