"""tinygrad_seq.utils, as torch.utils: the data-loading tools live in `utils.data`."""

from . import data

__all__ = ["data"]
