"""Loading the ctransformers engine's parts, with every foreseeable failure as one line.

What can go wrong is the operator's to fix, not a bug: a package missing (the
`ctransformers` extra, or huggingface_hub, which ctransformers imports), a prebuilt
library this machine cannot run, a file that is not a GGUF or has an architecture
or tokenizer the 2023 loader cannot handle, a cache it cannot write. Each becomes
EngineUnavailable saying why and what to do; `tokenplace node` prints that line
and exits 2. The checks run cheapest first: the GGUF's metadata is read (0.1 s)
before the rewrite (2.5 s, once) and the load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokenplace.node.engines.base import EngineUnavailable

# These import their optional packages (jinja2, tokenizers, gguf) only when used.
from tokenplace.node.engines.gguf_files.chat_template import ChatTemplate
from tokenplace.node.engines.gguf_files.ctransformers_rewrite import cached_rewrite
from tokenplace.node.engines.gguf_files.metadata import read_metadata
from tokenplace.node.engines.gguf_files.tokenizer import GgufTokenizer, load_tokenizer

# Architectures the September 2023 llama.cpp inside ctransformers can build from GGUF.
SUPPORTED_ARCHITECTURES = ("llama", "falcon")

NOT_INSTALLED = (
    "the ctransformers engine is not installed (no module {module!r}): "
    "pip install 'tokenplace[ctransformers]' (`make install` does), or use --engine llama_cpp"
)


def _not_installed(missing: ImportError) -> EngineUnavailable:
    module = (missing.name or str(missing)).split(".")[0]
    return EngineUnavailable(NOT_INSTALLED.format(module=module))


def import_ctransformers() -> tuple[Any, Any]:
    """ctransformers' LLM and Config classes."""
    try:
        from ctransformers.llm import LLM, Config
    except ImportError as missing:  # ctransformers itself, or huggingface_hub it imports
        raise _not_installed(missing) from None
    return LLM, Config


def load_tokenizer_and_template(model_path: Path) -> tuple[GgufTokenizer, ChatTemplate | None]:
    """The model's tokenizer and chat template (None when it has none)."""
    metadata = _read_gguf(model_path)
    try:
        arch = metadata.get("general.architecture")
        if arch not in SUPPORTED_ARCHITECTURES:
            raise ValueError(f"its architecture {arch!r} is newer than ctransformers' llama.cpp")
        tok = load_tokenizer(metadata)
        if not tok.chat_template:
            return tok, None
        bos, eos = tok.token_text(tok.bos_id), tok.token_text(tok.eos_id)
        return tok, ChatTemplate(tok.chat_template, bos, eos)
    except ImportError as missing:  # tokenizers, jinja2
        raise _not_installed(missing) from None
    except (ValueError, KeyError, TypeError) as bad:  # not a tokenizer or template we handle
        raise EngineUnavailable(
            f"ctransformers cannot serve {model_path.name}: {_one_line(bad)}; "
            "use --engine llama_cpp"
        ) from None


def _read_gguf(model_path: Path) -> dict[str, Any]:
    try:
        return read_metadata(model_path)
    except OSError as err:
        raise EngineUnavailable(
            f"cannot read the model {model_path}: {err.strerror or err}; check --model-path"
        ) from None
    except ValueError as bad:  # not a GGUF file at all
        raise EngineUnavailable(f"{_one_line(bad)}: check --model-path") from None


def rewritten_model(model_path: Path, cache_dir: Path) -> Path:
    """The copy of the model ctransformers loads (see ctransformers_rewrite.py)."""
    try:
        return cached_rewrite(model_path, cache_dir)
    except ImportError as missing:  # gguf
        raise _not_installed(missing) from None
    except (ValueError, KeyError) as bad:  # a vocabulary the rewrite cannot convert
        raise EngineUnavailable(
            f"ctransformers cannot serve {model_path.name}: {_one_line(bad)}; "
            "use --engine llama_cpp"
        ) from None
    except OSError as err:
        raise EngineUnavailable(
            f"cannot write the ctransformers copy of {model_path.name} to {cache_dir} "
            f"({err.strerror or err}); free space there or set XDG_CACHE_HOME"
        ) from None


def load_llm(llm_class: Any, path: Path, config: Any, library: str | None) -> Any:
    """One ctransformers LLM (one slot's model and KV cache)."""
    try:
        return llm_class(str(path), config=config, lib=library)
    except (OSError, AttributeError) as err:  # CDLL failed, or a library without its symbols
        raise EngineUnavailable(
            f"ctransformers' {library or 'default'} library does not load here "
            f"({_one_line(err)}); it needs x86-64 Linux with glibc 2.29+: use --engine llama_cpp"
        ) from None
    except RuntimeError:  # "Failed to create LLM": llama.cpp's own reason is not exposed
        raise EngineUnavailable(
            f"ctransformers could not load {path} (it gives no reason); "
            "delete that file to redo the rewrite, or use --engine llama_cpp"
        ) from None


def cpu_library() -> str | None:
    """The prebuilt ctransformers library this CPU can run: "avx2", "avx" or "basic".

    Read from /proc/cpuinfo because ctransformers' own detection (py-cpuinfo) costs
    about a second, and an avx2 library on a CPU without it dies of SIGILL, which no
    Python code can catch. None (let ctransformers decide) where there is no /proc.
    """
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), []))
    if {"avx2", "fma", "f16c", "avx"} <= flags:
        return "avx2"
    if {"avx", "f16c"} <= flags:
        return "avx"
    return "basic"


def _one_line(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"its metadata has no {error.args[0]!r}"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
