#!/usr/bin/env bash
# Regenerates the README's pictures of the views (docs/*.png) from the bundled sample project,
# under Xvfb: scripts/screenshots.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fw=${1:-$root/build}/app/formwork
out=$root/docs
mkdir -p "$out"
xvfb-run -a "$fw" --screenshot "$out/attention.png" --view attention --input sample:0 \
  --layer stages.2.blocks.0.token_mixer --query 6 --compare stages.1.blocks.0.token_mixer
xvfb-run -a "$fw" --screenshot "$out/gradcam.png" --view gradcam --input sample:4
xvfb-run -a "$fw" --screenshot "$out/layercam.png" --view gradcam --input sample:4 --layer stem \
  --method layercam
xvfb-run -a "$fw" --screenshot "$out/nas.png" --view nas --search search
xvfb-run -a "$fw" --screenshot "$out/study.png" --view nas --search study --search-tab study
echo "wrote $out/attention.png $out/gradcam.png $out/layercam.png $out/nas.png $out/study.png"
# Circuit diagrams, written by the export command (the same drawing as the circuit view).
"$fw" export caformer_s18 --diagram circuit --level stages.2.blocks.0 \
  --png "$out/circuit_block.png" --width 1600 --svg "$out/circuit_block.svg" --pdf "$out/circuit_block.pdf"
"$fw" export caformer_s18 --diagram circuit --level stages.2.blocks.0.token_mixer \
  --png "$out/circuit_attention.png" --width 1000 --svg "$out/circuit_attention.svg" \
  --pdf "$out/circuit_attention.pdf"
"$fw" export poolformer_s12 --diagram circuit --level stages.0.blocks.0 \
  --png "$out/circuit_poolformer_block.png" --width 1600
