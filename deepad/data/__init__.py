"""Datasets (embedded and torchvision), experiment set-ups and preprocessing."""

from deepad.data.datasets import CATALOG, Dataset, dataset_names, load_dataset  # noqa: F401
from deepad.data.parts import Part, Split  # noqa: F401
from deepad.data.setups import SetupConfig  # noqa: F401
from deepad.data.splits import make_split  # noqa: F401
