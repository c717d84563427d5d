"""A user's own data as a `Dataset`: a CSV, an NPZ, or images in one sub-folder per class (a folder
or a zip). Every problem is a DeepADError that names the file, what is wrong and what would be
right. Nothing from an upload is unpickled or executed, and loading never writes anything: archives
are read in memory, entry by entry, after their paths have been checked.

Accepted inputs (`load_user_data(path, ...)`, or `load_user_bytes(data, filename, ...)` for an
upload held in memory):
- CSV (.csv, .tsv, .txt; UTF-8; the delimiter is detected): one label column (`label_column`,
  default: a column named label / labels / y / class / target) and numeric feature columns. Text
  columns that are not mostly numbers are skipped; cells that are empty, NaN, infinite or not
  numbers in a numeric column are refused with their rows, unless `drop_bad_rows=True`.
- NPZ: arrays `x` and `y` (read with allow_pickle=False). x (n, d) is tabular; x (n, H, W),
  (n, C, H, W) or (n, H, W, C) with C in {1, 3} are images with values in [0, 1] (or 0..255).
- Images (.png .jpg .jpeg .bmp .gif .tif .tiff .webp .ppm .pgm) in `<class>/<file>`, possibly
  under one wrapping folder. All grayscale → 1 channel, otherwise RGB. Mixed sizes are refused
  with the list of sizes unless `image_size` asks to resize every image.

Classes: the distinct label values (or sub-folder names) as text, in natural order (numerically
when every value is a number, e.g. "2" before "10"; alphabetically otherwise). Class number i is
`dataset.classes[i]`; the order does not depend on which values are normal.
`normal_classes(dataset, normal_values)` turns label values into those class numbers, for
`SetupConfig.normal`.

Datasets by name: `"file:PATH"` or `"file:PATH?label_column=diagnosis&normal_values=B"` (see
`user_dataset_name`) is understood by `deepad.data.datasets.load_dataset` and `dataset_info`;
the options can also come as a dict through their `options` argument. A relative PATH is taken
from the current folder.

One module per job: `sources` (what an upload is and its limits), `labels`, `tables` (CSV, NPZ),
`images`, `loader` (the public loaders), `inputs` (samples to score) and `names` ("file:" dataset
names). Loading never writes: keeping an upload with its run, or staged until the run exists, is
`deepad.runs.uploads`.
"""

from deepad.data.uploads.images import max_decoded_bytes
from deepad.data.uploads.inputs import Inputs, read_inputs
from deepad.data.uploads.labels import natural_order, normal_classes
from deepad.data.uploads.loader import load_user_bytes, load_user_data
from deepad.data.uploads.names import (FILE_PREFIX, OPTION_NAMES, load_user_dataset, parse_user_dataset_name,
                                       user_dataset_info, user_dataset_name)
from deepad.data.uploads.sources import (CSV_SUFFIXES, DEFAULT_MAX_BYTES, IMAGE_SUFFIXES, LABEL_NAMES, MAX_CLASSES,
                                         MAX_COLUMNS, MAX_FILES)
from deepad.data.uploads.tables import csv_columns

__all__ = ["CSV_SUFFIXES", "DEFAULT_MAX_BYTES", "FILE_PREFIX", "IMAGE_SUFFIXES", "Inputs", "LABEL_NAMES",
           "MAX_CLASSES", "MAX_COLUMNS", "MAX_FILES", "OPTION_NAMES", "csv_columns", "load_user_bytes", "load_user_data", "load_user_dataset",
           "max_decoded_bytes", "natural_order", "normal_classes", "parse_user_dataset_name", "read_inputs",
           "user_dataset_info", "user_dataset_name"]
