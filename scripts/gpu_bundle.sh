#!/usr/bin/env bash
# Builds what a GPU machine needs for issue #14's checks and puts it in .gpu/ (ignored by git):
# formwork, formwork_device_tests and formwork_bench_cuda (Release, CUDA on, no GUI, Qt, MPI or ONNX,
# for x86-64-v3 (AVX2) rather than -march=native: the GPU machine's processor may differ), and
# the shared libraries they load
# that a bare CUDA machine lacks (Debian's; the CUDA driver and cuBLAS are the machine's own).
#   scripts/gpu_bundle.sh            then, on the GPU machine: scripts/gpu_check.sh .gpu "$OUT"
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_GPU_BUILD:-$root/build-gpu}
out=$root/.gpu
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFORMWORK_GUI=OFF \
  -DFORMWORK_MPI=OFF -DFORMWORK_ONNX=OFF -DFORMWORK_NATIVE=OFF -DFORMWORK_CUDA=ON \
  -DCMAKE_CXX_FLAGS=-march=x86-64-v3 -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=TRUE \
  -DFORMWORK_TESTS=ON >/dev/null
cmake --build "$build" -j "${FORMWORK_JOBS:-$(nproc)}" \
  --target formwork formwork_device_tests formwork_bench_cuda
rm -rf "$out"
mkdir -p "$out/lib" "$out/bin"
bins=("$build/app/formwork" "$build/tests/formwork_device_tests" "$build/tests/formwork_bench_cuda")
cp "${bins[@]}" "$out/bin/"
ldd "${bins[@]}" | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux* | libcuda.so* | \
      libcublas* | libcudart* | libnvidia*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
strip "$out"/bin/*
# One wrapper per binary: the bundle's libraries (and the machine's cuBLAS, from
# FORMWORK_CUBLAS_DIR) for that program only, so that Python there keeps its own libstdc++.
for b in "${bins[@]}"; do
  name=$(basename "$b")
  cat >"$out/$name" <<WRAP
#!/bin/sh
d=\$(dirname "\$(readlink -f "\$0")")
export LD_LIBRARY_PATH="\$d/lib\${FORMWORK_CUBLAS_DIR:+:\$FORMWORK_CUBLAS_DIR}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "\$d/bin/$name" "\$@"
WRAP
  chmod +x "$out/$name"
done
grep -qx '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >>"$root/.git/info/exclude"
du -sh "$out"
ls "$out" "$out/lib"
