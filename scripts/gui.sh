#!/usr/bin/env bash
# Installs what is missing, builds, and opens the Formwork window:
#   scripts/gui.sh                    the bundled sample project
#   scripts/gui.sh PROJECT            a project file, an architecture file or a template name
#   scripts/gui.sh --screenshot OUT.png [--view V] [--frames N] [PROJECT]
# Arguments go to `build/app/formwork`. Environment: FORMWORK_BUILD_DIR.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FORMWORK_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  echo "gui: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): run this in a desktop session," >&2
  echo "gui: or headless: xvfb-run -a $build/app/formwork --screenshot out.png" >&2
  exit 1
fi
echo "gui: $build/app/formwork $*"
exec "$build/app/formwork" "$@"
