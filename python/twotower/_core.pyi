"""Stubs of twotower._core, the C++ extension (python/src/module.cc). Use the twotower package."""

from typing import Any, Dict, List

DEFAULT_K: int  # k when a request names none (serve/recommend_service.h)
DEFAULT_EXCLUDE_SEEN: bool  # whether a request leaves out the user's known items by default

class Error(RuntimeError):
    """A twotower::Error of the C++ core; str(error) is its message."""

def run_cli(args: List[str], group: Any = None) -> int:
    """Runs the twotower CLI on args (without the program name); returns its exit code. `train`
    trains data-parallel over `group` (a torch.distributed ProcessGroup) when one is given."""

def run_command(args: List[str]) -> None:
    """Runs one CLI subcommand; raises Error (bad flags included) instead of printing it."""

def train(config_path: str, config_yaml: str, source: str, overrides: List[str], resume: bool,
          eval: bool, group: Any = None) -> str:
    """Trains from a YAML file (config_path) or YAML text (config_yaml, named source in
    messages); returns the summary as JSON text. Raises KeyboardInterrupt at the next step (or
    after the epoch's checkpoint) when Ctrl-C was pressed."""

class NotFoundError(KeyError): ...

class RecommendService:
    def recommend(self, user_id: str, history: List[str], k: int, exclude_seen: bool,
                  exclude: List[str]) -> Dict[str, Any]: ...
    def similar(self, item_id: str, k: int) -> List[Dict[str, Any]]: ...
    def info(self) -> Dict[str, Any]: ...

def load_export(export_dir: str, version: str, index_kind: str) -> RecommendService:
    """Loads an export folder (its newest version for version "") with an exact or hnsw index."""
