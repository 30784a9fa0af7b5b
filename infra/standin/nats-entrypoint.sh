#!/bin/sh
# The stand-in nats image's entrypoint (infra/standin/Dockerfile): options alone run nats-server.
set -eu
case "${1:-}" in -*) set -- nats-server "$@" ;; esac
exec "$@"
