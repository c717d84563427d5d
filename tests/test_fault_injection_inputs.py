"""Fault injection at the door: a user's file is refused or read with its memory bounded before it is
decoded or converted (a CSV cell of 20 000 digits, a large CSV, an NPZ whose array is a pickle), each
read in a process of its own whose peak memory is measured."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from tests.measured import MB, load_measured


def test_a_csv_cell_of_20000_digits_is_refused_in_one_line_before_any_conversion(tmp_path):
    rows = ["a,b,label"] + [f"{i},{i % 7},{'x' if i % 5 else 'y'}" for i in range(3000)]
    rows[1500] = "9" * 20_000 + ",1,x"
    f = tmp_path / "long-cell.csv"
    f.write_text("\n".join(rows) + "\n")
    for kind in ("train", "score"):
        got = load_measured(kind, f)
        assert "refused" in got and len(got["refused"].splitlines()) == 1, got
        assert "20000 characters" in got["refused"] or "not a number" in got["refused"] or \
            "infinite" in got["refused"], got
        assert got["peak"] - got["base"] < 64 * MB, got  # the <U20000 table was 4.5 GB


def test_a_large_csv_is_read_within_a_small_multiple_of_its_size(tmp_path):
    rng = np.random.default_rng(0)
    f = tmp_path / "large.csv"
    n = 400_000
    table = rng.normal(size=(n, 6)).round(5)
    labels = np.where(rng.random(n) < 0.9, "ok", "bad")
    with open(f, "w") as out:
        out.write("f0,f1,f2,f3,f4,f5,label\n")
        for start in range(0, n, 50_000):
            block = table[start:start + 50_000]
            out.writelines(",".join(map(str, r)) + f",{lab}\n" for r, lab in zip(block, labels[start:start + 50_000]))
    size = f.stat().st_size
    got = load_measured("train", f)
    assert got.get("rows") == n and got["columns"] == 6, got
    assert got["peak"] - got["base"] < 5 * size, f"{(got['peak'] - got['base']) / MB:.0f} MB for a {size / MB:.0f} MB CSV"


def test_an_npz_whose_array_is_a_pickle_is_refused_in_one_line(tmp_path):
    import pickle

    f = tmp_path / "pickled.npz"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("x.npy", pickle.dumps({"not": "an array"}))
        buf = io.BytesIO()
        np.save(buf, np.zeros(3))
        zf.writestr("y.npy", buf.getvalue())
    for kind in ("train", "score"):
        got = load_measured(kind, f)
        assert "refused" in got and len(got["refused"].splitlines()) == 1, got
        assert "not a NumPy array" in got["refused"] and "pickle" in got["refused"], got
