#!/usr/bin/env bash
# Builds TDT's images from the one Dockerfile: tdt/{auth,trees,sessions,hooks,gateway,web}:<tag>,
# labelled (and the gateway's /health) with the version, `git describe` of the source. A service
# the source does not have (hooks, in a release before it) is skipped, with a line saying so.
#   bash infra/build-images.sh                 # the working tree, as tdt/<name>:latest
#   bash infra/build-images.sh v0.1.0 /tmp/src # another checkout (git archive of a tag, say)
# Where npm reaches its registry through a TLS-intercepting proxy, NPM_CA_FILE (default:
# NODE_EXTRA_CA_CERTS when set) is handed to the build as a secret, never kept in an image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tag=${1:-latest}
source=${2:-$(dirname "$here")}
version=${VERSION:-$(git -C "$source" describe --tags --always --dirty 2>/dev/null || echo dev)}
revision=${REVISION:-$(git -C "$source" rev-parse HEAD 2>/dev/null || echo unknown)}
ca=${NPM_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}
secret=()
if [ -n "$ca" ] && [ -s "$ca" ]; then secret=(--secret "id=npm_ca,src=$ca"); fi
for image in auth trees sessions hooks gateway web; do
  if [ ! -f "$source/services/$image/package.json" ]; then
    echo "skipping tdt/$image:$tag: $source has no services/$image"
    continue
  fi
  target=()
  if [ "$image" = web ]; then target=(--target web); fi
  echo "building tdt/$image:$tag ($version)"
  bash "$here/docker-build.sh" --quiet --network host "${secret[@]}" "${target[@]}" \
    --build-arg "SERVICE=$image" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    -t "tdt/$image:$tag" "$source" >/dev/null
done
