#!/usr/bin/python3
"""PyTorch reference for `pnpm bench gmcae`: the same networks, shapes and optimiser, timed
the same way (one warm-up step, then the median of N steps), on the CPU.

Run by tools/bench/gmcae.ts with Debian's /usr/bin/python3 and python3-torch:
  torch_gmcae.py --threads 2 --case a:8-16-32:4:4:3 --case d:64-128-256:8:1:2 \
                 --cls cls:70x55x90:4-8:32-32:3
Prints one JSON line: {"torch": version, "threads": n, "results": [{case, ms, cpu_ms, ...}]}.

Mirrors @lungflow/gmcae's buildGmcae (kdsb17): per level a 3^3 conv (stride 1) and a 3^3
conv (stride 2), ReLU; the decoder mirrors with transposed convs; heads: log-priors and
variances (conv 16 -> flatten -> dense 128 ReLU -> dense m), means (conv with m filters);
loss: the Gaussian-mixture NLL per voxel; Adam 1e-4. The classifier is @lungflow/classifier's
buildClassifier: the encoder, 3D spatial pyramid max pooling with [1, 2, 4] bins, dense
layers with dropout 0.5, a sigmoid unit, binary cross-entropy. Padding: 'same' convs use
padding 1 (tfjs puts the odd extra pad of a stride-2 'same' conv after, PyTorch pads both
sides: the shapes and the FLOPs are the same).
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Gmcae(nn.Module):
    def __init__(self, d, filters, m, head_filters=16, head_dense=128):
        super().__init__()
        self.m = m
        enc, c = [], 1
        for f in filters:
            enc += [nn.Conv3d(c, f, 3, 1, 1), nn.ReLU(), nn.Conv3d(f, f, 3, 2, 1), nn.ReLU()]
            c = f
        self.encoder = nn.Sequential(*enc)
        dec = []
        for i in range(len(filters) - 1, -1, -1):
            f = filters[i]
            dec += [nn.ConvTranspose3d(c, f, 3, 2, 1, output_padding=1), nn.ReLU(),
                    nn.Conv3d(f, f, 3, 1, 1), nn.ReLU()]
            c = f
        self.decoder = nn.Sequential(*dec)
        self.means = nn.Conv3d(c, m, 3, 1, 1)
        e = d // 2 ** len(filters)

        def head():
            return nn.Sequential(nn.Conv3d(filters[-1], head_filters, 3, 1, 1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(head_filters * e ** 3, head_dense), nn.ReLU(), nn.Linear(head_dense, m))

        self.prior = head()
        self.var = head()

    def forward(self, x):
        z = self.encoder(x)
        mu = self.means(self.decoder(z))  # [B, m, D, D, D]
        log_prior = F.log_softmax(self.prior(z), -1)
        v = self.var(z)
        variance = F.relu(v) + torch.exp(torch.clamp(v, max=0))
        return log_prior, variance, mu


def gmm_nll(t, log_prior, variance, mu):
    b, m = log_prior.shape
    c = t[0].numel()
    variance = torch.clamp(variance, min=1e-6)
    sq = ((t.reshape(b, 1, c) - mu.reshape(b, m, c)) ** 2).sum(2)
    z = log_prior - (c / 2) * (math.log(2 * math.pi) + torch.log(variance)) - sq / (2 * variance)
    z = torch.clamp(z, min=-1e30)
    return (-torch.logsumexp(z, 1)).mean() / c


class Spp3d(nn.Module):
    def __init__(self, bins):
        super().__init__()
        self.bins = bins

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool3d(x, b).flatten(1) for b in self.bins], 1)


def classifier(enc_filters, dense, bins=(1, 2, 4)):
    layers, c = [], 1
    for f in enc_filters:
        layers += [nn.Conv3d(c, f, 3, 1, 1), nn.ReLU(), nn.Conv3d(f, f, 3, 2, 1), nn.ReLU()]
        c = f
    layers += [Spp3d(bins)]
    n = c * sum(b ** 3 for b in bins)
    for u in dense:
        layers += [nn.Linear(n, u), nn.ReLU(), nn.Dropout(0.5)]
        n = u
    layers += [nn.Linear(n, 1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def time_steps(step, steps):
    t0 = time.perf_counter()
    step()
    first = (time.perf_counter() - t0) * 1000
    wall, cpu = [], []
    for _ in range(steps):
        c = time.process_time()
        s = time.perf_counter()
        step()
        wall.append((time.perf_counter() - s) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "ms": statistics.median_high(wall) if wall else first,
        "best_ms": min(wall) if wall else first,
        "cpu_ms": statistics.median(cpu) if cpu else None,
        "first_ms": first,
        "steps": len(wall),
    }


def gmcae_case(spec):
    name, filters, m, batch, steps = spec.split(":")
    filters = [int(f) for f in filters.split("-")]
    m, batch, steps = int(m), int(batch), int(steps)
    torch.manual_seed(1)
    net = Gmcae(32, filters, m)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(batch, 1, 32, 32, 32) * 2 - 1
    t = x.reshape(batch, -1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = gmm_nll(t, *net(x))
        loss.backward()
        loss.item()
        opt.step()

    r = time_steps(step, steps)
    return {"case": name, "filters": "-".join(map(str, filters)), "m": m, "batch": batch, **r}


def cls_case(spec):
    name, shape, enc, dense, steps = spec.split(":")
    shape = [int(s) for s in shape.split("x")]
    enc = [int(f) for f in enc.split("-")]
    dense = [int(u) for u in dense.split("-")]
    torch.manual_seed(1)
    net = classifier(enc, dense)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(1, 1, *shape) * 2 - 1
    y = torch.ones(1, 1)

    def step():
        opt.zero_grad(set_to_none=True)
        p = torch.clamp(net(x), 1e-7, 1 - 1e-7)
        loss = F.binary_cross_entropy(p, y)
        loss.backward()
        loss.item()
        opt.step()

    r = time_steps(step, int(steps))
    return {"case": name, "volume": "x".join(map(str, shape)), "filters": "-".join(map(str, enc)), **r}


def blas():
    """The BLAS library PyTorch's non-oneDNN convolutions (batch-1 3D convs) call: Debian's
    python3-torch links the libblas.so.3 alternative; the reference BLAS makes (d) ~10x slower
    than OpenBLAS (apt-get install libopenblas0-pthread)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ",".join(sorted(p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in libs)) or "none"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--case", action="append", default=[], help="name:filters:m:batch:steps")
    ap.add_argument("--cls", action="append", default=[], help="name:DxHxW:encoder:dense:steps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for spec in args.case:
        results.append(gmcae_case(spec))
        print(f"torch {results[-1]['case']}: {results[-1]['ms']:.0f} ms/step", file=sys.stderr)
    for spec in args.cls:
        results.append(cls_case(spec))
        print(f"torch {results[-1]['case']}: {results[-1]['ms']:.0f} ms/step", file=sys.stderr)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": blas(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "results": results,
    }))


if __name__ == "__main__":
    main()
