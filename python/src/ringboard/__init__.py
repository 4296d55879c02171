"""Ringboard: the Keras TensorBoard callback at hot-loop speed.

`ringboard.keras.TensorBoard` is the callback (Keras 3, any backend, no TensorFlow needed).
`ringboard.SummaryWriter` is torch's and tensorboardX's `SummaryWriter` (no torch needed).
"""

from ._native import RingboardError, abi_version, library_version
from .writer import SummaryWriter

__version__ = "0.1.0"  # libringboard.so says the same (ringboard_internal.h; a test checks)
__all__ = ["RingboardError", "SummaryWriter", "abi_version", "library_version", "__version__"]
