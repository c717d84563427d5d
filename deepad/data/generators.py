"""Anomaly generators on image arrays (n, C, H, W) in [0, 1]: pure and seeded.

- `block_permutation` (Chong et al., Sec. V-A): cut each image into N×N blocks and shuffle them.
- `strokes` (Chong et al., Sec. V-A): draw a few random strokes of thickness M, one colour per image.
- `fgsm` (Zhou et al., GTSRB): move images by ε·sign(∇x loss) of a small classifier, clipped to
  [0, 1]; `train_classifier` trains that classifier (a few seeded epochs), `fgsm_anomalies` does
  both.

Every function returns a new array of the same shape and dtype, with values in [0, 1]; the input
is never modified. The same input, parameter and seed always give the same output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np

from deepad.errors import DeepADError

if TYPE_CHECKING:  # torch is imported by the functions that use it (FGSM), not to list set-ups
    from torch import nn

Seed = Union[int, np.random.Generator, None]

ALTERATIONS: tuple[str, ...] = ("block-permutation", "strokes", "fgsm")
PARAM_NAMES = {"block-permutation": "N (blocks per side)", "strokes": "M (stroke thickness in pixels)",
               "fgsm": "ε (step size in pixel units)"}
DEFAULT_PARAMS = {"block-permutation": 2, "strokes": 5, "fgsm": 0.1}
FGSM_CLASSIFIER_EPOCHS = 3  # the small classifier FGSM perturbs against: a few epochs are enough


# --- checks -----------------------------------------------------------------------------------
def check_images(x: np.ndarray, name: str = "x") -> np.ndarray:
    """Images as float32 (n, C, H, W) in [0, 1]; DeepADError otherwise."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[0] == 0:
        raise DeepADError(f"{name}: expected images of shape (n, C, H, W) with n >= 1; got shape "
                          f"{tuple(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise DeepADError(f"{name}: expected floating-point images in [0, 1]; got dtype {x.dtype}")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise DeepADError(f"{name}: image values must be finite and lie in [0, 1]; found "
                          f"{np.nanmin(x):.3g}..{np.nanmax(x):.3g}")
    return x.astype(np.float32, copy=False)


def check_param(kind: str, param: float, image_shape: tuple[int, ...] | None = None) -> float:
    """Validate an alteration's parameter (and, given (C, H, W), that it fits the images)."""
    if kind not in ALTERATIONS:
        raise DeepADError(f"alteration={kind!r}: choose one of {', '.join(ALTERATIONS)}")
    what = PARAM_NAMES[kind]
    if kind == "fgsm":
        if not 0 < param <= 1:
            raise DeepADError(f"fgsm parameter {what} = {param}: must lie in (0, 1]")
        return float(param)
    if param != int(param) or param < (2 if kind == "block-permutation" else 1):
        low = 2 if kind == "block-permutation" else 1
        raise DeepADError(f"{kind} parameter {what} = {param}: must be a whole number >= {low}")
    if image_shape is not None:
        side = min(image_shape[-2:])
        if param > side:
            raise DeepADError(f"{kind} parameter {what} = {int(param)}: the images are "
                              f"{image_shape[-2]}×{image_shape[-1]}, so at most {side} is allowed")
    return int(param)


# --- block permutation ------------------------------------------------------------------------
def _random_non_identity_perms(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """n random permutations of range(k) (k >= 2), none of them the identity."""
    perms = np.argsort(rng.random((n, k)), axis=1)
    ident = np.arange(k)
    bad = (perms == ident).all(axis=1)
    while bad.any():
        perms[bad] = np.argsort(rng.random((int(bad.sum()), k)), axis=1)
        bad = (perms == ident).all(axis=1)
    return perms


def block_permutation(x: np.ndarray, n_blocks: int, rng: Seed = None, max_redraws: int = 10) -> np.ndarray:
    """Cut each image into `n_blocks`×`n_blocks` blocks and permute them (a different random
    permutation per image, never the identity). No pixel is lost: the output holds exactly the
    input's blocks in another order.

    When H or W is not a multiple of N, the blocks are ⌊H/N⌋×⌊W/N⌋ and the leftover strip at the
    bottom / right edge stays where it is. When a permutation happens to leave an image unchanged
    (it only swapped identical blocks, e.g. blank corners of a digit), another is drawn, up to
    `max_redraws` times; an image whose blocks are all identical cannot change.
    """
    x = check_images(x)
    n_blocks = check_param("block-permutation", n_blocks, x.shape[1:])
    rng = np.random.default_rng(rng)
    n, c, h, w = x.shape
    bh, bw = h // n_blocks, w // n_blocks
    hh, ww = bh * n_blocks, bw * n_blocks
    k = n_blocks * n_blocks
    # (n, C, N, bh, N, bw) -> (n, N*N, C, bh, bw): block (i, j) is number i*N + j
    blocks = x[:, :, :hh, :ww].reshape(n, c, n_blocks, bh, n_blocks, bw).transpose(0, 2, 4, 1, 3, 5)
    blocks = blocks.reshape(n, k, c, bh, bw)
    perms = _random_non_identity_perms(n, k, rng)
    rows = np.arange(n)[:, None]
    shuffled = blocks[rows, perms]
    flat_b = blocks.reshape(n, k, -1)
    can_change = ~(flat_b == flat_b[:, :1]).all(axis=(1, 2))
    for _ in range(max_redraws):
        same = can_change & (shuffled == blocks).reshape(n, -1).all(axis=1)
        if not same.any():
            break
        idx = np.flatnonzero(same)
        perms[idx] = _random_non_identity_perms(len(idx), k, rng)
        shuffled[idx] = blocks[idx[:, None], perms[idx]]
    out = x.copy()
    out[:, :, :hh, :ww] = (shuffled.reshape(n, n_blocks, n_blocks, c, bh, bw)
                           .transpose(0, 3, 1, 4, 2, 5).reshape(n, c, hh, ww))
    return out


# --- strokes ----------------------------------------------------------------------------------
def stroke_masks(n: int, height: int, width: int, thickness: int, rng: Seed = None,
                 max_strokes: int = 4) -> np.ndarray:
    """Boolean masks (n, H, W): 1..`max_strokes` straight strokes per image, each a segment of
    random direction and length (¼ to 1 times the shorter side) starting at a random pixel,
    drawn `thickness` pixels wide (pixels whose centre lies within thickness/2 of the segment)."""
    rng = np.random.default_rng(rng)
    side = min(height, width)
    n_strokes = rng.integers(1, max_strokes + 1, n)
    start = np.stack([rng.integers(0, height, (n, max_strokes)),
                      rng.integers(0, width, (n, max_strokes))], axis=-1).astype(np.float64)
    angle = rng.uniform(0, 2 * np.pi, (n, max_strokes))
    length = rng.uniform(side / 4, side, (n, max_strokes))
    end = start + length[..., None] * np.stack([np.sin(angle), np.cos(angle)], axis=-1)
    rr, cc = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    pix = np.stack([rr, cc], axis=-1).astype(np.float64)  # (H, W, 2)
    masks = np.zeros((n, height, width), dtype=bool)
    chunk = max(1, 2 ** 21 // (height * width))
    r2 = (thickness / 2) ** 2
    for lo in range(0, n, chunk):
        sl = slice(lo, lo + chunk)
        for s in range(max_strokes):
            a, b = start[sl, s][:, None, None, :], end[sl, s][:, None, None, :]
            d = b - a
            t = np.clip(((pix - a) * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
            dist2 = ((pix - (a + t[..., None] * d)) ** 2).sum(-1)
            masks[sl] |= (dist2 <= r2) & (s < n_strokes[sl])[:, None, None]
    return masks


def strokes(x: np.ndarray, thickness: int, rng: Seed = None, max_strokes: int = 4) -> np.ndarray:
    """Draw 1..`max_strokes` random strokes of `thickness` pixels on each image, in one random
    colour per image (uniform in [0, 1] per channel). Only stroke pixels change; every image
    changes in at least one pixel (the colour is drawn again if it matched the image everywhere
    under the strokes)."""
    x = check_images(x)
    thickness = check_param("strokes", thickness, x.shape[1:])
    if int(max_strokes) != max_strokes or max_strokes < 1:
        raise DeepADError(f"max_strokes={max_strokes}: must be a whole number >= 1")
    rng = np.random.default_rng(rng)
    n, c, h, w = x.shape
    masks = stroke_masks(n, h, w, thickness, rng, int(max_strokes))
    colours = rng.random((n, c)).astype(np.float32)
    out = x.copy()
    for i in range(n):
        under = out[i][:, masks[i]]  # (C, pixels)
        while np.array_equal(under, np.broadcast_to(colours[i][:, None], under.shape)):
            colours[i] = rng.random(c)
        out[i][:, masks[i]] = colours[i][:, None]
    return out


# --- FGSM -------------------------------------------------------------------------------------
def small_classifier(in_shape: tuple[int, int, int], n_classes: int) -> "nn.Module":
    """Two 3×3 conv layers (8, 16 filters, ReLU, max-pool on images of 8 pixels or more) and a
    small dense head: enough to be fooled by FGSM, fast on a CPU."""
    from torch import nn

    c, h, w = in_shape
    pool = [nn.MaxPool2d(2)] if min(h, w) >= 8 else []
    model = nn.Sequential(
        nn.Conv2d(c, 8, 3, padding=1), nn.ReLU(), *pool,
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        nn.Flatten(), nn.Linear(16 * 16, 64), nn.ReLU(), nn.Linear(64, n_classes))
    model.n_classes = n_classes
    return model


def _labels(y: np.ndarray, n: int, name: str = "labels", n_classes: int | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or (n and y.min() < 0):
        raise DeepADError(f"{name}: expected {n} class numbers >= 0 (one per image); got shape "
                          f"{tuple(y.shape)} of dtype {y.dtype}")
    if n_classes is not None and n and y.max() >= n_classes:
        raise DeepADError(f"{name}: class {int(y.max())} is unknown to the classifier, which knows "
                          f"classes 0..{n_classes - 1}")
    return y.astype(np.int64)


def train_classifier(x: np.ndarray, y: np.ndarray, epochs: int = FGSM_CLASSIFIER_EPOCHS, seed: int = 0, batch_size: int = 128,
                     lr: float = 1e-3, max_samples: int | None = 20000) -> "nn.Module":
    """Train a `small_classifier` on images `x` (in [0, 1]) with class numbers `y`: Adam, a few
    epochs, seeded (at most `max_samples` samples, drawn with the seed). Returns it in eval mode,
    on the CPU. The global torch random state is left as it was."""
    import torch
    import torch.nn.functional as F

    x = check_images(x)
    y = _labels(y, len(x), "y")
    n_classes = int(y.max()) + 1
    if n_classes < 2:
        raise DeepADError("the FGSM classifier needs at least two classes in its training data; "
                          f"got only class {int(y.max())}")
    rng = np.random.default_rng(seed)
    if max_samples is not None and len(x) > max_samples:
        keep = rng.choice(len(x), max_samples, replace=False)
        x, y = x[keep], y[keep]
    xt, yt = torch.from_numpy(np.array(x, dtype=np.float32)), torch.from_numpy(y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = small_classifier(tuple(x.shape[1:]), n_classes)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for _ in range(epochs):
            order = torch.from_numpy(rng.permutation(len(x)))
            for lo in range(0, len(x), batch_size):
                idx = order[lo:lo + batch_size]
                opt.zero_grad()
                F.cross_entropy(model(xt[idx]), yt[idx]).backward()
                opt.step()
    return model.eval()


def predict(model: "nn.Module", x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The classifier's predicted class numbers for images `x`."""
    import torch

    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(np.array(x[lo:lo + batch_size], dtype=np.float32)))
                               .argmax(1).numpy() for lo in range(0, len(x), batch_size)])


def fgsm(x: np.ndarray, model: "nn.Module", labels: np.ndarray, eps: float, batch_size: int = 512) -> np.ndarray:
    """Fast gradient sign method: x + ε·sign(∇x cross-entropy(model(x), labels)), clipped to
    [0, 1]. Each pixel moves by at most ε. The model is used as it is (eval mode) and not changed."""
    import torch
    import torch.nn.functional as F

    x = check_images(x)
    eps = check_param("fgsm", eps)
    labels = _labels(labels, len(x), n_classes=getattr(model, "n_classes", None))
    out = np.empty_like(x)
    was_training = model.training
    model.eval()
    try:
        for lo in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.array(x[lo:lo + batch_size])).requires_grad_(True)
            loss = F.cross_entropy(model(xb), torch.from_numpy(labels[lo:lo + batch_size]), reduction="sum")
            (grad,) = torch.autograd.grad(loss, xb)
            out[lo:lo + batch_size] = (xb.detach() + eps * grad.sign()).clamp_(0, 1).numpy()
    finally:
        model.train(was_training)
    return out


def fgsm_anomalies(x_fit: np.ndarray, y_fit: np.ndarray, x: np.ndarray, y: np.ndarray, eps: float,
                   seed: int = 0, epochs: int = 3) -> np.ndarray:
    """Train a small classifier on (`x_fit`, `y_fit`), then FGSM-perturb `x` (true classes `y`)."""
    return fgsm(x, train_classifier(x_fit, y_fit, epochs=epochs, seed=seed), y, eps)


# --- one entry point for the set-ups --------------------------------------------------------------
def alter(x: np.ndarray, kind: str, param: float, rng: Seed = None, model: "nn.Module | None" = None,
          labels: np.ndarray | None = None) -> np.ndarray:
    """Apply one alteration by name: "block-permutation" (N), "strokes" (M) or "fgsm" (ε; needs
    the classifier `model` and the images' true class numbers `labels`)."""
    if kind == "block-permutation":
        return block_permutation(x, int(param), rng)
    if kind == "strokes":
        return strokes(x, int(param), rng)
    if kind == "fgsm":
        if model is None or labels is None:
            raise DeepADError("alteration 'fgsm' needs a trained classifier and the images' labels")
        return fgsm(x, model, labels, param)
    raise DeepADError(f"alteration={kind!r}: choose one of {', '.join(ALTERATIONS)}")
