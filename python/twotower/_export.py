"""A loaded serving export (``twotower export``): recommendations and the vectors behind them."""

import os

import numpy as np

from . import _core


class Export:
    """The model export ``twotower.load_export`` loads: ``recommend`` and ``similar`` run the same
    C++ Recommender as ``twotower recommend`` and ``twotower serve`` (the GIL released), and
    ``item_vectors`` / ``user_vectors`` are the export's ``.npy`` files mapped read-only (numpy
    memmaps sharing the file's pages, no copy)."""

    def __init__(self, service):
        self._service = service
        self.info = service.info()
        self.path = self.info["path"]
        self.item_vectors = np.load(os.path.join(self.path, "item_embeddings.npy"), mmap_mode="r")
        self.user_vectors = np.load(os.path.join(self.path, "user_embeddings.npy"), mmap_mode="r")

    def recommend(self, user=None, history=None, k=_core.DEFAULT_K, exclude_seen=_core.DEFAULT_EXCLUDE_SEEN, exclude=()):
        """Top-``k`` items for a known ``user`` id, or for an item ``history`` (ids, oldest first,
        embedded by the user tower), or for nobody (the cold-user vector, or popularity where the
        model has none). Returns ``{"items": [{"item_id", "title", "score"}, ...], "source": ...}``
        with source one of known_user, history, cold_user, popularity. Unknown ids raise
        ``twotower.NotFoundError`` (a KeyError), a bad ``k`` ``twotower.Error``."""
        if user is not None and history:
            raise ValueError("recommend: got both user and history, expected one of them")
        return self._service.recommend("" if user is None else str(user), [str(i) for i in (history or [])], int(k),
                                       bool(exclude_seen), [str(i) for i in exclude])

    def similar(self, item, k=_core.DEFAULT_K):
        """The ``k`` items nearest ``item`` by inner product, itself excluded."""
        return self._service.similar(str(item), int(k))


def load_export(path, version="", index="exact"):
    """Loads ``path`` (an export folder, or the parent of versions ``v000001``, ... to take the
    newest, or ``version``) with an ``exact`` or ``hnsw`` top-K index."""
    return Export(_core.load_export(os.fspath(path), version, index))
