"""Resources are bounded before they are spent: an image archive is sized from its images' headers
(width × height × channels × count) and refused before any pixel is decoded; a CSV's columns are
counted from its header; a dataset name cannot lift the size limit."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from deepad.data.uploads import (DEFAULT_MAX_BYTES, MAX_COLUMNS, load_user_bytes, load_user_data,
                                 max_decoded_bytes, parse_user_dataset_name)
from deepad.errors import DeepADError


def _zip_of_black_pngs(path, n: int, side: int, mode: str = "RGB") -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new(mode, (side, side)).save(png, format="PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            zf.writestr(f"{'normal' if i % 2 else 'defect'}/{i}.png", png.getvalue())


PEAK = """
import resource, sys
from deepad.data.uploads import load_user_data
from deepad.errors import DeepADError
try:
    load_user_data(sys.argv[1])
    print("loaded")
except DeepADError as exc:
    print("refused:", exc)
print("peak MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def test_an_image_zip_over_the_decoded_limit_is_refused_before_decoding(tmp_path):
    """Eight black 4096×4096 RGB PNGs: a small zip whose images would take 1.5 GiB as float32.
    They are refused from their headers; the process's peak memory shows nothing was decoded (one
    such image alone decodes to 48 MB of bytes and 192 MB as float32)."""
    path = tmp_path / "huge.zip"
    _zip_of_black_pngs(path, 8, 4096)
    assert path.stat().st_size < 2 * 2 ** 20
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    baseline = subprocess.run([sys.executable, "-c", "import resource, deepad.data.uploads, PIL.Image, pandas;"
                               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"],
                              capture_output=True, text=True, env=env, timeout=300)
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    refused, peak = out.stdout.splitlines()
    assert refused.startswith("refused:") and "8 images of 4096×4096 pixels × 3 channels" in refused
    assert "MB in memory, over the limit of 1024.0 MB" in refused and "image_size" in refused
    assert float(peak.split()[-1]) - float(baseline.stdout.strip()) < 40, (peak, baseline.stdout)


def test_images_within_the_limit_decode_into_one_array(tmp_path):
    path = tmp_path / "ok.zip"
    _zip_of_black_pngs(path, 6, 64, mode="L")
    ds = load_user_data(path)
    assert ds.x.shape == (6, 1, 64, 64) and ds.x.dtype == np.float32 and ds.classes == ["defect", "normal"]
    resized = load_user_data(path, image_size=16)
    assert resized.x.shape == (6, 1, 16, 16)


def test_the_decoded_limit_follows_the_size_limit(tmp_path):
    path = tmp_path / "mid.zip"
    _zip_of_black_pngs(path, 4, 256)  # 4 × 3 × 256² × 4 bytes = 3 MB as float32
    assert max_decoded_bytes(200_000) == 2_000_000
    with pytest.raises(DeepADError, match=r"would take \d\.\d MB in memory, over the limit of 1\.9 MB"):
        load_user_data(path, max_bytes=200_000)
    assert load_user_data(path).x.shape == (4, 3, 256, 256)


def test_a_csv_with_too_many_columns_is_refused_from_its_header():
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + ",label\n"
    data = (header + ",".join(["1"] * (MAX_COLUMNS + 2)) + "\n").encode()
    with pytest.raises(DeepADError, match=rf"has {MAX_COLUMNS + 2} columns, more than {MAX_COLUMNS}"):
        load_user_bytes(data, "wide.csv")


def test_a_wide_csv_is_parsed_in_one_pass():
    """4000 columns × 40 rows, one text column skipped, one NaN cell refused by its column name."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4000))
    lines = [",".join([f"f{j}" for j in range(4000)] + ["note", "label"])]
    for i, row in enumerate(x):
        cells = [f"{v:.4f}" for v in row]
        if i == 7:
            cells[1234] = "nan"
        lines.append(",".join(cells + ["word", "a" if i % 4 else "b"]))
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(DeepADError, match=r"column 'f1234' in row 8"):
        load_user_bytes(data, "wide.csv")
    ds = load_user_bytes(data, "wide.csv", drop_bad_rows=True)
    assert ds.x.shape == (39, 4000) and "note" not in ds.feature_names
    assert np.allclose(ds.x[0], np.round(x[0], 4), atol=1e-4)


def test_a_dataset_name_cannot_lift_the_size_limit():
    with pytest.raises(DeepADError, match="can lower the size limit, not raise it"):
        parse_user_dataset_name(f"file:/data/x.csv?max_bytes={DEFAULT_MAX_BYTES + 1}")
    assert parse_user_dataset_name("file:/data/x.csv?max_bytes=1000")[1]["max_bytes"] == 1000


def test_staged_uploads_are_removed_after_a_day_and_kept_under_a_total(tmp_path):
    import time

    from deepad.runs.uploads import prune_staged, stage_upload_bytes

    def csv(seed: int) -> bytes:
        rng = np.random.default_rng(seed)
        rows = "\n".join(f"{a:.3f},{b:.3f},{'ok' if i % 3 else 'bad'}"
                         for i, (a, b) in enumerate(rng.normal(size=(30, 2))))
        return ("f1,f2,label\n" + rows + "\n").encode()

    folder = tmp_path / "uploads"
    old = stage_upload_bytes(csv(0), "old.csv", folder)
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    (folder / "notes.txt").write_text("not a staged upload")
    fresh = [stage_upload_bytes(csv(i), f"f{i}.csv", folder) for i in range(1, 4)]
    assert not old.exists() and all(p.exists() for p in fresh) and (folder / "notes.txt").exists()
    assert stage_upload_bytes(csv(1), "f1.csv", folder) == fresh[0]  # the same content is kept once
    size = fresh[0].stat().st_size
    removed = prune_staged(folder, keep_bytes=2 * size + size // 2)
    assert removed == [fresh[1]]  # the oldest unused one; f1 was just used again
    assert sorted(p.name for p in folder.iterdir()) == sorted([fresh[0].name, fresh[2].name, "notes.txt"])
