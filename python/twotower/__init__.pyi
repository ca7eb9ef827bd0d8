import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

PathLike = Union[str, "os.PathLike[str]"]

__version__: str

class Error(RuntimeError):
    """A failure reported by the twotower core; str(error) is the C++ message."""

def main(argv: Optional[Sequence[str]] = None) -> int: ...
def generate(out: PathLike, **options: Any) -> Dict[str, str]: ...
def prepare(reviews: PathLike, out: PathLike, meta: Optional[PathLike] = None, **options: Any) -> Dict[str, Any]: ...
def train(config: Union[PathLike, Mapping[str, Any]],
          overrides: Optional[Union[Iterable[str], Mapping[str, Any]]] = None,
          resume: bool = False, eval: bool = True, group: Any = None) -> Dict[str, Any]: ...
def evaluate(run: Optional[PathLike] = None, split: str = "test", k: Sequence[int] = (10, 20),
             out: Optional[PathLike] = None, **options: Any) -> Dict[str, Any]: ...

class NotFoundError(KeyError):
    """An id the export does not know; str(error) names it."""

class Export:
    info: Dict[str, Any]
    path: str
    item_vectors: Any  # numpy.memmap [num_items, dim] float32, read-only
    user_vectors: Any  # numpy.memmap [num_users, dim] float32, read-only
    def recommend(self, user: Optional[str] = None, history: Optional[Sequence[str]] = None, k: int = ...,
                  exclude_seen: bool = ..., exclude: Sequence[str] = ()) -> Dict[str, Any]: ...
    def similar(self, item: str, k: int = ...) -> List[Dict[str, Any]]: ...

def load_export(path: PathLike, version: str = "", index: str = "exact") -> Export: ...
