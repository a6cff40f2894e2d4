#!/usr/bin/env bash
# Installs what Formwork needs on Debian 12, and nothing else: only the Debian packages that are
# missing (checked with dpkg-query), `apt-get update` only when something is missing. Idempotent
# and non-interactive; safe to run before every build. Prints one line per step.
#
# As root it installs directly; otherwise through sudo when that is available, or it prints the
# command to run and exits 1. PyTorch (the test oracle) is pointed at OpenBLAS-pthread.
set -euo pipefail

# What each package is for:
#  build     cmake ninja-build g++ (C++20), libgtest-dev (unit tests)
#  core      libeigen3-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
#            libpng-dev libjpeg-dev (decoding PNG and JPEG inputs; BMP goes through libstb-dev)
#  GUI       libimgui-dev (1.86, with its GLFW + OpenGL3 backends) libglfw3-dev libgl-dev
#            libstb-dev (PNG writing; imgui's stb_truetype) fonts-dejavu-core
#            libgl1-mesa-dri libglx-mesa0 (Mesa's OpenGL, llvmpipe when there is no GPU)
#            libxcursor1 libxrandr2 libxinerama1 libxi6 (loaded by GLFW on X11)
#  export    qt6-base-dev (QtGui: QPainter, QPdfWriter and QImage in views/qt/, the one library
#            that includes Qt; it writes PDF and PNG files and starts Qt for SVG's fonts)
#  tests     poppler-utils (pdftoppm: renders exported PDFs), xvfb xauth (GUI screenshots headless), python3-torch python3-numpy
#            python3-pil (oracles, for /usr/bin/python3), libopenblas0-pthread (PyTorch's BLAS)
#  search    libopenmpi-dev openmpi-bin (MPI scale-out: mpirun -np K formwork nas ...)
#  ONNX      libonnx-dev libprotobuf-dev (core/export/: ONNX's protobuf schema and checker),
#            python3-onnx (the tests' onnx.checker), nodejs + npm (ONNX Runtime from npm,
#            onnxruntime-node, installed into tests/node/ with --ignore-scripts: the oracle)
#  data      dataset-fashion-mnist
#  fuzzing   clang-16 libclang-rt-16-dev (scripts/sanitize.sh: ASan/UBSan and libFuzzer; clang-14's
#            std::source_location does not work with g++ 12's libstdc++, and bookworm has
#            no libclang-rt-15-dev: 16)
PACKAGES=(
  cmake ninja-build g++ libgtest-dev
  libeigen3-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libpng-dev libjpeg-dev
  libimgui-dev libglfw3-dev libgl-dev libstb-dev fonts-dejavu-core
  libgl1-mesa-dri libglx-mesa0 libxcursor1 libxrandr2 libxinerama1 libxi6
  qt6-base-dev poppler-utils
  libopenmpi-dev openmpi-bin
  libonnx-dev libprotobuf-dev python3-onnx nodejs
  xvfb xauth python3-torch python3-numpy python3-pil libopenblas0-pthread
  dataset-fashion-mnist
  clang-16 libclang-rt-16-dev
)

step() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: Formwork's set-up needs Debian 12 (or a derivative with apt)"
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  os_id=$(. /etc/os-release && echo "${ID:-?} ${VERSION_ID:-?}")
  [[ $os_id == "debian 12" ]] || step "note: this is '$os_id', set-up is written for Debian 12 (bookworm)"
fi

# Runs a command as root: directly, through sudo, or not at all (prints what to run instead).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    if [[ -t 0 ]]; then sudo "$@"; else sudo -n "$@"; fi
  else
    die "not root and no sudo; run as root: $*"
  fi
}

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

# ---- 1. Debian packages ------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
# npm: Debian's package, unless an npm is there already (NodeSource's nodejs carries its own).
command -v npm >/dev/null 2>&1 || installed npm || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
  step "Debian packages: all ${#PACKAGES[@]} installed"
else
  step "Debian packages: ${#missing[@]} missing: ${missing[*]}"
  if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    die "not root and no sudo; as root run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  log=$(mktemp -t formwork-setup.XXXXXX.log)
  export DEBIAN_FRONTEND=noninteractive
  apt_run() {
    if ! as_root env DEBIAN_FRONTEND=noninteractive "$@" >>"$log" 2>&1 </dev/null; then
      tail -n 30 "$log" >&2
      die "'$*' failed (full log: $log)"
    fi
  }
  step "apt-get update (log: $log)"
  apt_run apt-get -q -o DPkg::Lock::Timeout=600 update
  step "apt-get install ${#missing[@]} packages (this can take a few minutes)"
  apt_run apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  still=()
  for p in "${missing[@]}"; do installed "$p" || still+=("$p"); done
  [[ ${#still[@]} -eq 0 ]] || die "still missing after install: ${still[*]} (log: $log)"
  rm -f "$log"
  step "Debian packages: installed ${#missing[@]}"
fi

# ---- 2. PyTorch's BLAS: OpenBLAS-pthread -------------------------------------------------------
# Debian's PyTorch links libblas.so.3/liblapack.so.3, which are update-alternatives links; the
# reference BLAS behind them is ~10x slower than OpenBLAS.
for lib in libblas.so.3 liblapack.so.3; do
  want=$(dpkg-query -L libopenblas0-pthread | grep -m1 "/openblas-pthread/$lib\$" || true)
  [[ -n $want ]] || die "libopenblas0-pthread ships no $lib"
  triplet=$(basename "$(dirname "$(dirname "$want")")")  # /usr/lib/<triplet>/openblas-pthread/lib
  name="$lib-$triplet"
  current=$(update-alternatives --query "$name" 2>/dev/null | sed -n 's/^Value: //p')
  if [[ $current == "$want" ]]; then
    step "BLAS: $lib -> openblas-pthread"
  else
    as_root update-alternatives --quiet --set "$name" "$want"
    step "BLAS: $lib -> openblas-pthread (was ${current:-unset})"
  fi
done

# ---- 3. ONNX Runtime (npm), the ONNX export's oracle ------------------------------------------
# tests/node/package-lock.json pins onnxruntime-node; its prebuilt CPU library ships in the
# package, so no install script runs (--ignore-scripts) and nothing is downloaded at build time.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ort_dir="$root/tests/node"
ort_version=$(sed -n 's/.*"onnxruntime-node": "\(.*\)".*/\1/p' "$ort_dir/package.json")
have_ort=$(node -p "require('$ort_dir/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true)
if [[ $have_ort == "$ort_version" ]]; then
  step "ONNX Runtime: onnxruntime-node $have_ort in tests/node"
else
  step "ONNX Runtime: npm ci --ignore-scripts onnxruntime-node $ort_version (tests/node)"
  if ! (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
    die "npm ci in $ort_dir failed (needs the npm registry once)"
  fi
  step "ONNX Runtime: installed $(node -p "require('$ort_dir/node_modules/onnxruntime-node/package.json').version")"
fi

# ---- 4. The oracles' interpreter --------------------------------------------------------------
# The PyTorch cross-checks run with Debian's /usr/bin/python3 (a python3 earlier on PATH, e.g.
# pyenv's, has no python3-torch).
if versions=$(/usr/bin/python3 -c 'import torch, numpy, PIL, onnx; print("torch", torch.__version__, "numpy", numpy.__version__, "PIL", PIL.__version__, "onnx", onnx.__version__)' 2>&1); then
  step "oracles: /usr/bin/python3 with $versions"
else
  die "/usr/bin/python3 cannot import torch/numpy/PIL/onnx: $versions"
fi
step "ready"
