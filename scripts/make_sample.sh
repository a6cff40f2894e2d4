#!/usr/bin/env bash
# Regenerates assets/sample.formwork: caformer_mini64 trained on fashion-mnist-placed (16 epochs,
# seed 0), with 8 test images, their labels and object boxes stored in the project. The
# optimiser state is dropped afterwards so that the file stays small (the weights, curves and
# settings are kept; `formwork train --resume` then starts the optimiser afresh).
# Takes about 20-60 minutes on 2 cores. Usage: scripts/make_sample.sh [OUT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-assets/sample.formwork}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/app/formwork train caformer_mini64 --dataset fashion-mnist-placed --epochs 16 --seed 0 \
  --keep-samples 8 --out "$tmp/sample.formwork"
/usr/bin/python3 - "$tmp/sample.formwork" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("delete from blobs where name = 'train/optimizer.safetensors'")
db.commit()
db.execute("vacuum")
db.close()
PY
build/app/formwork eval "$tmp/sample.formwork" --dataset fashion-mnist-placed
mv "$tmp/sample.formwork" "$out"
echo "wrote $out"
