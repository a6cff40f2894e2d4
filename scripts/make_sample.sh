#!/usr/bin/env bash
# Regenerates assets/sample.formwork: caformer_mini64 trained on fashion-mnist-placed (16 epochs,
# seed 0), with 8 test images, their labels and object boxes stored in the project. The
# optimiser state is dropped afterwards so that the file stays small (the weights, curves and
# settings are kept; `formwork train --resume` then starts the optimiser afresh). Then it sets the
# search space of assets/sample_space.json and runs a short NSGA-II search over it (naswot:max,
# params:min, about 10 s), so that the Search view (`formwork --view nas`) has a finished search
# to show. Takes about 20-60 minutes on 2 cores. Usage: scripts/make_sample.sh [OUT]
# (The search step alone, on an existing sample: the two `formwork space` / `formwork nas` lines.)
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
build/app/formwork space "$tmp/sample.formwork" --set assets/sample_space.json
build/app/formwork nas "$tmp/sample.formwork" --strategy nsga2 --budget 200 --population 20 \
  --objectives naswot:max,params:min --seed 1 --quiet
# The README's proxy study (about 45 minutes on 2 cores).
build/app/formwork study "$tmp/sample.formwork" --samples 30 --train-steps 300 --eval-limit 1000 \
  --seed 7 --threads 1
mv "$tmp/sample.formwork" "$out"
echo "wrote $out"
