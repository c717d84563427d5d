"""Independent random streams per purpose: two arms of a comparison that differ in one setting see
the same minibatches and start from the same weights (Chong et al.'s paired arms)."""

from __future__ import annotations

import numpy as np
import torch

from deepad.detectors import registry
from deepad.detectors.torch_utils import RandomStreams, stream_seed

ARM = {"bias": True, "epochs": 2, "pretrain_epochs": 1, "batch_size": 64}


def fit_logged(split, seed: int, **params):
    det = registry.get("deep-svdd")({**ARM, **params}, seed=seed)
    det.batch_log = []
    det.fit(split.train, split.val)
    return det


def test_bias_and_bias_plus_noise_regularizer_see_identical_minibatches(split_factory):
    split = split_factory(normal=[9])
    plain = fit_logged(split, seed=7, reg="none")
    noise = fit_logged(split, seed=7, reg="noise")
    # pretraining (1 epoch) and training (2 epochs), every batch recorded by the real loop
    n = int(np.sum(split.train.known_label != -1))
    assert len(plain.batch_log) > 3 and sum(map(len, plain.batch_log)) == 3 * n
    assert noise.batch_log == plain.batch_log
    # the noise labels were drawn (the arms differ in what they learnt), from a stream of their own
    assert not np.allclose(plain.embed(split.test.x[:50]), noise.embed(split.test.x[:50]))
    # another seed gives other batches: the comparison above can fail
    assert fit_logged(split, seed=8, reg="none").batch_log != plain.batch_log


def test_the_noise_head_does_not_shift_the_networks_initialisation(split_factory):
    split = split_factory(normal=[9])
    nets = []
    for reg in ("none", "noise"):
        det = registry.get("deep-svdd")({**ARM, "reg": reg}, seed=3)
        torch.manual_seed(3)  # as the training loop seeds it before building
        det._build(split.input_shape)
        nets.append({k: v.clone() for k, v in det.net.state_dict().items()})
        decoder_draw = torch.rand(4)  # what the pretraining decoder would draw next
        nets[-1]["next draw"] = decoder_draw
    assert nets[0].keys() == nets[1].keys()
    assert all(torch.equal(nets[0][k], nets[1][k]) for k in nets[0])


def test_streams_are_distinct_per_purpose_and_reproducible():
    seeds = {p: stream_seed(5, p) for p in ("noise", "synthetic", "sampling", "augment", "init/noise-head")}
    assert len(set(seeds.values())) == len(seeds)
    assert seeds == {p: stream_seed(5, p) for p in seeds}  # stable
    assert stream_seed(6, "noise") != seeds["noise"]
    a, b = RandomStreams(5), RandomStreams(5)
    first = torch.rand(3, generator=a.torch("noise"))
    torch.rand(100, generator=b.torch("batches"))  # drawing from one stream leaves the others alone
    assert torch.equal(first, torch.rand(3, generator=b.torch("noise")))
    assert RandomStreams(5).seed_of("batches") == 5
