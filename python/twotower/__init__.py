"""twotower: two-tower retrieval recommenders, the C++ core as a Python module.

The functions run the same code as the ``twotower`` command line (``python -m twotower ...``
runs the CLI itself): the same flags are checked, the same files written, the same progress
shown on stderr, and the GIL is released while they work. Every failure of the core raises
:class:`twotower.Error` (a ``RuntimeError``) with the C++ message, e.g.
``config.yaml:3: field "training.batch_size": got "x", expected an integer``.

Example::

    import twotower
    twotower.generate("gen", users=200, items=100, reviews=2000, seed=1)
    stats = twotower.prepare("gen/reviews.json.gz", "prepared", meta="gen/meta.json.gz")
    run = twotower.train("configs/test_tiny.yaml", {"data.data_path": "prepared"})
    metrics = twotower.evaluate(run["run_dir"], split="test", k=(10, 20))
"""

import torch  # noqa: F401  (loads libtorch and torch's pybind11 types before _core)

from . import _core
from ._api import evaluate, generate, main, prepare, train
from ._export import Export, load_export

Error = _core.Error
Error.__doc__ = "A failure reported by the twotower core; str(error) is the C++ message."
Error.__module__ = "twotower"

NotFoundError = _core.NotFoundError
NotFoundError.__doc__ = "An id the export does not know (a KeyError); str(error) names it."
NotFoundError.__module__ = "twotower"

__all__ = ["Error", "Export", "NotFoundError", "evaluate", "generate", "load_export", "main", "prepare", "train"]
__version__ = "0.1.0"
