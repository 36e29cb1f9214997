# Type stubs of the videoprism package (the native module videoprism._videoprism).
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
ArrayLike = npt.ArrayLike
F32 = npt.NDArray[np.float32]

class Model:
    """A VideoPrism model loaded with load()."""

    @property
    def config(self) -> Dict[str, Any]: ...
    @property
    def kind(self) -> str: ...
    @property
    def num_params(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def checkpoint(self) -> str: ...
    def forward(
        self,
        videos: Optional[ArrayLike] = None,
        frame_paddings: Optional[ArrayLike] = None,
        text_token_ids: Optional[ArrayLike] = None,
        text_paddings: Optional[ArrayLike] = None,
    ) -> Dict[str, F32]: ...
    def embed_videos(
        self,
        videos: Union[ArrayLike, PathLike, Sequence[PathLike]],
        frame_paddings: Optional[ArrayLike] = None,
        frames: Optional[int] = None,
        size: Optional[int] = None,
        batch: int = 8,
    ) -> F32: ...
    def embed_texts(
        self, texts: Union[str, Sequence[str]], tokenizer: "Tokenizer", max_length: int = 64, batch: int = 64
    ) -> F32: ...
    def save(self, path: PathLike) -> None: ...

def load(
    checkpoint: PathLike,
    model: Optional[PathLike] = None,
    config: Optional[Union[Mapping[str, Any], PathLike]] = None,
    dtype: str = "float32",
    device: str = "cpu",
    threads: Optional[int] = None,
) -> Model: ...

class Tokenizer:
    def __init__(self, path: PathLike) -> None: ...
    def __call__(
        self, texts: Union[str, Sequence[str]], max_length: int = 64, canonicalize: bool = True
    ) -> Tuple[npt.NDArray[np.int32], F32]: ...
    @staticmethod
    def canonicalize(text: str) -> str: ...
    def encode(self, text: str) -> List[int]: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def bos_id(self) -> int: ...
    @property
    def eos_id(self) -> int: ...
    @property
    def path(self) -> str: ...

@overload
def read_clips(
    path: PathLike,
    frames: int = 16,
    size: int = 288,
    windows: int = 1,
    resize: str = "lanczos",
    crop: str = "center",
    threads: int = 0,
) -> Tuple[F32, npt.NDArray[np.float64]]: ...
@overload
def read_clips(
    path: PathLike,
    frames: int = 16,
    size: int = 288,
    windows: int = 1,
    resize: str = "lanczos",
    crop: str = "center",
    threads: int = 0,
    *,
    with_paddings: bool,
) -> Tuple[F32, npt.NDArray[np.float64], F32]: ...
def probe_video(path: PathLike) -> Dict[str, Any]: ...
def prompt_templates(name_or_file: str) -> List[str]: ...
def classify(
    model: Model,
    tokenizer: Tokenizer,
    videos: Union[ArrayLike, PathLike, Sequence[PathLike]],
    labels: Union[str, Sequence[str]],
    templates: Union[str, Sequence[str]] = "kinetics",
    k: int = 5,
    temperature: float = 0.01,
    frames: Optional[int] = None,
    size: Optional[int] = None,
) -> Union[Dict[str, Any], List[Dict[str, Any]]]: ...

class SearchHit:
    @property
    def path(self) -> str: ...
    @property
    def window(self) -> int: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def score(self) -> float: ...

class VideoIndex:
    def __init__(self, db: PathLike) -> None: ...
    @property
    def dir(self) -> str: ...
    @property
    def num_files(self) -> int: ...
    @property
    def num_vectors(self) -> int: ...
    @property
    def paths(self) -> List[str]: ...
    @property
    def meta(self) -> Dict[str, str]: ...
    def __len__(self) -> int: ...
    def search(
        self,
        *,
        text: Optional[str] = None,
        embedding: Optional[ArrayLike] = None,
        like: Optional[PathLike] = None,
        k: int = 10,
        model: Optional[Union[Model, PathLike]] = None,
        tokenizer: Optional[PathLike] = None,
    ) -> List[SearchHit]: ...

def build_index(
    db: PathLike,
    paths_or_dir: Union[PathLike, Sequence[PathLike]],
    *,
    model: Union[Model, PathLike],
    tokenizer: Optional[PathLike] = None,
    frames: int = 0,
    size: int = 0,
    windows: int = 1,
    batch: int = 1,
    vector_index: str = "flat",
    progress: Optional[Callable[[int, int, str, bool], None]] = None,
    on_error: Optional[Callable[[str, str], None]] = None,
) -> Dict[str, Any]: ...
def list_videos(dir: str) -> List[str]: ...
def have_faiss() -> bool: ...
def load_npz(path: PathLike) -> Dict[str, npt.NDArray[Any]]: ...
def save_npz(path: PathLike, arrays: Mapping[str, ArrayLike], compress: bool = False) -> None: ...
