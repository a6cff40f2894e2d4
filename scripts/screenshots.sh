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
echo "wrote $out/attention.png $out/gradcam.png $out/layercam.png"
