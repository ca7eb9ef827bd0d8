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
          resume: bool = False, eval: bool = True) -> Dict[str, Any]: ...
def evaluate(run: Optional[PathLike] = None, split: str = "test", k: Sequence[int] = (10, 20),
             out: Optional[PathLike] = None, **options: Any) -> Dict[str, Any]: ...
