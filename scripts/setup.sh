#!/usr/bin/env bash
# Installs whatever twotower still needs on this machine, and nothing twice:
# Debian packages by name, the project's virtual environment (.venv) with LibTorch and Arrow
# from the pinned torch and pyarrow wheels, and the linkable Arrow library names.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(cmake ninja-build g++ make libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libsimdjson-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox
  libfaiss-dev libcpp-httplib-dev wrk clang-16 libfuzzer-16-dev libomp-16-dev python3-dev python3-venv ccache)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.twotower-requirements
if [ ! -f "$stamp" ] || ! cmp -s requirements.txt "$stamp"; then
  echo "setup: installing Python requirements into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$stamp"
fi
# pyarrow ships libarrow.so.NNNN; the linker wants libarrow.so.
.venv/bin/python - <<'PY'
import os, pyarrow
d = pyarrow.get_library_dirs()[0]
if not os.path.exists(os.path.join(d, "libparquet.so")):
    pyarrow.create_library_symlinks()
PY
# `import twotower` from .venv: python/ (the package, and _core*.so that `make build` writes into
# it) on the interpreter's path.
echo "$(pwd)/python" > "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/twotower.pth"
