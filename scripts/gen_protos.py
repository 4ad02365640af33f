"""Regenerate the committed protobuf and gRPC modules beside their .proto files.

Usage: python scripts/gen_protos.py [OUT_DIR]

OUT_DIR defaults to protos/, which is where the committed code lives; the
staleness test points it at a temporary directory and compares. Besides the
modules, mypy-protobuf writes typed stubs for the messages (`_pb2.pyi`) and for
the gRPC services, stubs and servicers (`_pb2_grpc.pyi`), which mypy checks
servicers and clients against.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def plugin(name: str) -> Path:
    """A protoc plugin installed beside this interpreter (mypy-protobuf's)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{name} not found: install the dev extra (pip install -e '.[dev]')")
    return path


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out_dir}",
        f"--mypy_out=quiet:{out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_grpc_out=quiet:{out_dir}",
        *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT
    generate(out_dir)


if __name__ == "__main__":
    main()
