#!/usr/bin/env bash
# docker build with BuildKit (the Dockerfile mounts the npm CA bundle as a build secret), on any
# Docker: through `docker buildx` where it is installed, else through a client of Docker 20.10 to
# 22, whose built-in BuildKit needs no plugin (Debian's docker.io ships one at /usr/bin/docker;
# a newer client without buildx refuses DOCKER_BUILDKIT=1). Arguments go to docker build.
set -euo pipefail
if docker buildx version >/dev/null 2>&1; then
  exec docker buildx build --load "$@"
fi
for client in docker /usr/bin/docker; do
  command -v "$client" >/dev/null || continue
  major=$("$client" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1) || continue
  if [ -n "$major" ] && [ "$major" -lt 23 ]; then
    DOCKER_BUILDKIT=1 exec "$client" build "$@"
  fi
done
echo "docker-build.sh: no way to build with BuildKit: install the buildx plugin (docker-buildx)" >&2
exit 1
