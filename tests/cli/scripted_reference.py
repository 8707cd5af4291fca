"""Small G and D written in PyTorch for the scripted model's tests (cli.scripted).

  scripted_reference.py nets DIR [--conditional]
      writes DIR/G.pt and DIR/D.pt (torch.jit.script), seeded, plus
      deliberately broken networks for the contract checks.
  scripted_reference.py reference DIR IDX STEPS SEED GRID SMOOTHING
      trains DIR/G.pt and DIR/D.pt with a plain PyTorch loop on the first
      64 images of the IDX file (one batch of all 64, so the loader's order
      does not matter), and prints step,loss_d,loss_g per step.

The loop is the textbook alternating update that duel's TwoPlayerGan runs:
z ~ N(0, 1) drawn from the global generator after torch.manual_seed(SEED)
and after the trainer's preview noise (GRID x latent); D's loss is
BCE(D(x), 1 - smoothing) + BCE(D(G(z).detach()), 0), G's loss is
BCE(D(G(z)), 1) on the same fakes; Adam(2e-4, (0.5, 0.999)) for both.
"""
import gzip
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT = 16


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 32 * 7 * 7)
        self.up = nn.Sequential(
            nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.up(self.fc(z).view(-1, 32, 7, 7))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2))
        self.out = nn.Linear(32 * 7 * 7, 1)

    def forward(self, x):
        return self.out(self.conv(x).flatten(1))


class ConditionalGenerator(Generator):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.embed = nn.Embedding(classes, LATENT)

    def forward(self, z, labels):
        return self.up(self.fc(z * self.embed(labels)).view(-1, 32, 7, 7))


class ConditionalDiscriminator(Discriminator):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.embed = nn.Embedding(classes, 32 * 7 * 7)

    def forward(self, x, labels):
        h = self.conv(x).flatten(1)
        return self.out(h) + (h * self.embed(labels)).sum(1, keepdim=True)


class NoTanh(Generator):  # images outside [-1, 1]
    def forward(self, z):
        return 3.0 * self.up(self.fc(z).view(-1, 32, 7, 7))


class Flat(Generator):  # [N, 784] instead of [N, 1, 28, 28]
    def forward(self, z):
        return self.up(self.fc(z).view(-1, 32, 7, 7)).flatten(1)


class NaiveFlatten(nn.Module):  # the flatten size written for another image size
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, 2, 1)
        self.out = nn.Linear(8 * 16 * 16, 1)

    def forward(self, x):
        return self.out(self.conv(x).flatten(1))


def save(net, path):
    torch.jit.save(torch.jit.script(net), path)


def nets(out):
    torch.manual_seed(1)
    save(Generator(), f"{out}/G.pt")
    save(Discriminator(), f"{out}/D.pt")
    save(ConditionalGenerator(), f"{out}/cG.pt")
    save(ConditionalDiscriminator(), f"{out}/cD.pt")
    save(NoTanh(), f"{out}/bad_range.pt")
    save(Flat(), f"{out}/bad_shape.pt")
    save(NaiveFlatten(), f"{out}/bad_flatten.pt")
    with open(f"{out}/not_torchscript.pt", "wb") as f:
        f.write(b"this is not a TorchScript archive\n")


def first_images(idx_path, n):
    with gzip.open(idx_path, "rb") as f:
        data = f.read()
    rows, cols = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
    pixels = torch.frombuffer(bytearray(data[16:16 + n * rows * cols]), dtype=torch.uint8)
    return pixels.view(n, 1, rows, cols).float().div(127.5).sub(1.0)


def reference(out, idx_path, steps, seed, grid, smoothing):
    torch.set_num_threads(1)
    G, D = torch.jit.load(f"{out}/G.pt"), torch.jit.load(f"{out}/D.pt")
    G.train()
    D.train()
    real = first_images(idx_path, 64)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    torch.manual_seed(seed)
    torch.randn(grid, LATENT)  # the trainer's fixed preview noise
    print("step,loss_d,loss_g")
    for step in range(1, steps + 1):
        z = torch.randn(real.size(0), LATENT)
        fake = G(z)
        opt_d.zero_grad()
        real_out, fake_out = D(real).view(-1), D(fake.detach()).view(-1)
        targets = torch.full_like(real_out, 1.0 - smoothing)
        loss_d = F.binary_cross_entropy_with_logits(real_out, targets) + F.softplus(fake_out).mean()
        loss_d.backward()
        opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad()
        loss_g = F.softplus(-D(fake).view(-1)).mean()
        loss_g.backward()
        for p in D.parameters():
            p.requires_grad_(True)
        opt_g.step()
        print(f"{step},{loss_d.item():.7g},{loss_g.item():.7g}")


if __name__ == "__main__":
    if sys.argv[1] == "nets":
        nets(sys.argv[2])
    else:
        out, idx, steps, seed, grid, smoothing = sys.argv[2:8]
        reference(out, idx, int(steps), int(seed), int(grid), float(smoothing))
