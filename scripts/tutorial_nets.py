#!/usr/bin/python3
"""The networks of the GAN tutorials, written in PyTorch and saved as TorchScript
for duel's `scripted` model (docs/library.md, configs/tutorial-*.toml).

    /usr/bin/python3 scripts/tutorial_nets.py [OUT_DIR] [--channels C] [--size S]

writes, into OUT_DIR (default nets/):

  tf-dcgan-mnist.G.pt / .D.pt   the classic DCGAN-on-MNIST tutorial (Keras):
      G: Dense(7*7*256, no bias) -> BatchNorm -> LeakyReLU -> reshape 7x7x256
         -> ConvTranspose 5x5 128 (stride 1) -> BN -> LeakyReLU
         -> ConvTranspose 5x5 64 (stride 2) -> BN -> LeakyReLU
         -> ConvTranspose 5x5 1 (stride 2) -> tanh
      D: Conv 5x5 64 stride 2 -> LeakyReLU -> Dropout 0.3
         -> Conv 5x5 128 stride 2 -> LeakyReLU -> Dropout 0.3 -> Flatten -> Dense 1
      Keras' defaults are kept: Glorot-uniform kernels, zero biases,
      LeakyReLU slope 0.3, BatchNorm momentum 0.99 (PyTorch's 0.01) and eps 1e-3.
  pytorch-dcgan.G.pt / .D.pt    the PyTorch GAN examples' DCGAN for CIFAR-10 (32 px):
      G: Linear(latent, 128*8*8) -> BN -> Upsample x2 -> Conv 3x3 128 -> BN -> LeakyReLU 0.2
         -> Upsample x2 -> Conv 3x3 64 -> BN -> LeakyReLU 0.2 -> Conv 3x3 C -> tanh
      D: four blocks Conv 3x3 stride 2 (16, 32, 64, 128) -> LeakyReLU 0.2 -> Dropout2d 0.25
         (-> BN from the second block) -> Linear 1
      The example's BatchNorm2d(n, 0.8) passes 0.8 as eps, not momentum; it is kept.
      Its D ends in a sigmoid for BCELoss; duel's losses take the raw logit instead
      (BCE on logits is the same loss, computed stably), so the sigmoid is left out.
  simple-d.D.pt                 the tutorials' simple discriminator: three 3x3 convolutions
      (64, 128, 256, stride 2, LeakyReLU 0.2) -> Flatten -> Linear 128 -> LeakyReLU 0.2
      -> Dropout 0.3 -> Linear 1 (raw logit). Written for 28x28 input with a hard-coded
      Linear(256*3*3, 128) it fails: the features of a 28x28 image are 4x4
      (28 -> 14 -> 7 -> 4 with padding 1). Here the flatten size is computed from
      the image size, so the net fits any input size.
  dcgan28.G.pt / .D.pt          duel's built-in dcgan28 networks (configs/dcgan28.toml)
      written in PyTorch with the same N(0, 0.02) initialisation, to compare a
      scripted pair with the built-in model at the same budget.

--channels and --size choose the image shape of the pytorch-dcgan and simple-d
nets (default 1 channel, 32 px for pytorch-dcgan; 28 px for simple-d).
"""
import argparse
import os

import torch
import torch.nn as nn


# ---- the DCGAN-on-MNIST tutorial (Keras) ---------------------------------------------------------

class KerasBatchNorm(nn.BatchNorm2d):
    """Keras' BatchNormalization defaults: momentum 0.99 (PyTorch counts 1 - 0.99) and eps 1e-3."""

    def __init__(self, n: int):
        super().__init__(n, eps=1e-3, momentum=0.01)


class TfDcganGenerator(nn.Module):
    def __init__(self, latent: int = 100):
        super().__init__()
        self.dense = nn.Linear(latent, 7 * 7 * 256, bias=False)
        self.bn0 = nn.BatchNorm1d(7 * 7 * 256, eps=1e-3, momentum=0.01)
        self.act = nn.LeakyReLU(0.3)
        self.body = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), KerasBatchNorm(128), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False), KerasBatchNorm(64),
            nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())

    def forward(self, z):  # z [N, 100] -> [N, 1, 28, 28]
        h = self.act(self.bn0(self.dense(z)))
        return self.body(h.view(-1, 256, 7, 7))


class TfDcganDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3))
        self.out = nn.Linear(128 * 7 * 7, 1)

    def forward(self, x):  # x [N, 1, 28, 28] -> [N, 1] logit
        return self.out(self.body(x).flatten(1))


def keras_init(net: nn.Module):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


# ---- the PyTorch examples' DCGAN (CIFAR-10 shape) ------------------------------------------------

class PtDcganGenerator(nn.Module):
    def __init__(self, latent: int = 100, channels: int = 1, size: int = 32):
        super().__init__()
        self.init_size = size // 4
        self.l1 = nn.Linear(latent, 128 * self.init_size ** 2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2.0),
            nn.Conv2d(128, 128, 3, stride=1, padding=1), nn.BatchNorm2d(128, 0.8), nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2.0),
            nn.Conv2d(128, 64, 3, stride=1, padding=1), nn.BatchNorm2d(64, 0.8), nn.LeakyReLU(0.2),
            nn.Conv2d(64, channels, 3, stride=1, padding=1), nn.Tanh())

    def forward(self, z):  # z [N, 100] -> [N, C, size, size]
        out = self.l1(z).view(z.size(0), 128, self.init_size, self.init_size)
        return self.conv_blocks(out)


class PtDcganDiscriminator(nn.Module):
    def __init__(self, channels: int = 1, size: int = 32):
        super().__init__()

        def block(cin, cout, bn=True):
            layers = [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            if bn:
                layers.append(nn.BatchNorm2d(cout, 0.8))
            return layers

        self.model = nn.Sequential(*block(channels, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128))
        ds_size = size // 2 ** 4
        self.adv_layer = nn.Linear(128 * ds_size ** 2, 1)  # the example's Sigmoid is left out: raw logit

    def forward(self, x):  # x [N, C, size, size] -> [N, 1] logit
        return self.adv_layer(self.model(x).flatten(1))


def example_init(net: nn.Module):
    """The example's weights_init_normal: N(0, 0.02) convolutions, N(1, 0.02) batch norms."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# ---- the tutorials' simple discriminator ---------------------------------------------------------

class SimpleDiscriminator(nn.Module):
    def __init__(self, channels: int = 1, size: int = 28):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 256, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
        # The flatten size from the image size (28 px: 256 x 4 x 4), not a hard-coded 256 x 3 x 3.
        with torch.no_grad():
            flat = self.features(torch.zeros(1, channels, size, size)).numel()
        self.head = nn.Sequential(nn.Linear(flat, 128), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(128, 1))

    def forward(self, x):  # x [N, C, size, size] -> [N, 1] raw logit
        return self.head(self.features(x).flatten(1))


# ---- duel's dcgan28 in PyTorch --------------------------------------------------------------------

class Dcgan28Generator(nn.Module):
    def __init__(self, latent: int = 100, width: int = 64):
        super().__init__()
        c = width * 4
        self.body = nn.Sequential(
            nn.ConvTranspose2d(latent, c, 4, bias=False), nn.BatchNorm2d(c), nn.ReLU(True),
            nn.ConvTranspose2d(c, c // 2, 3, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True),
            nn.ConvTranspose2d(c // 2, c // 4, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 4), nn.ReLU(True),
            nn.ConvTranspose2d(c // 4, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):  # z [N, 100] -> [N, 1, 28, 28]
        return self.body(z.view(z.size(0), -1, 1, 1))


class Dcgan28Discriminator(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        c = width
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * c), nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * c, 1, 3, bias=False))

    def forward(self, x):  # x [N, 1, 28, 28] -> [N, 1] logit
        return self.body(x).view(x.size(0), 1)


def dcgan_init(net: nn.Module):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def save(net: nn.Module, out: str, name: str):
    path = os.path.join(out, name)
    tmp = path + ".tmp"
    torch.jit.save(torch.jit.script(net), tmp)
    os.replace(tmp, path)
    params = sum(p.numel() for p in net.parameters())
    print(f"{path}: {params:,} parameters")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default="nets")
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--size", type=int, default=0, help="image size of pytorch-dcgan (32) and simple-d (28)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    g, d = TfDcganGenerator(), TfDcganDiscriminator()
    keras_init(g)
    keras_init(d)
    save(g, a.out, "tf-dcgan-mnist.G.pt")
    save(d, a.out, "tf-dcgan-mnist.D.pt")
    size = a.size or 32
    g, d = PtDcganGenerator(channels=a.channels, size=size), PtDcganDiscriminator(channels=a.channels, size=size)
    example_init(g)
    example_init(d)
    save(g, a.out, "pytorch-dcgan.G.pt")
    save(d, a.out, "pytorch-dcgan.D.pt")
    save(SimpleDiscriminator(channels=a.channels, size=a.size or 28), a.out, "simple-d.D.pt")
    g, d = Dcgan28Generator(), Dcgan28Discriminator()
    dcgan_init(g)
    dcgan_init(d)
    save(g, a.out, "dcgan28.G.pt")
    save(d, a.out, "dcgan28.D.pt")


if __name__ == "__main__":
    main()
