# The image of every TDT service, one build argument apart. Build from the repository root:
#   docker build --build-arg SERVICE=auth -t tdt/auth .
# SERVICE is auth, trees, sessions, hooks or gateway (docker-compose.yml builds all five).
# It needs BuildKit (any Docker since 23; on 20.10 to 22 set DOCKER_BUILDKIT=1; infra/docker-build.sh
# picks the way). Where npm reaches its registry through a TLS-intercepting proxy, pass that
# proxy's CA bundle as a secret, which no image keeps:
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt ...
# VERSION and REVISION (git describe and commit) label the image and show in the gateway's /health.
# The web app's image is the `web` target (nginx serving services/web, proxying the API):
#   docker build --build-arg SERVICE=web --target web -t tdt/web .

FROM node:20-bookworm-slim AS base
ARG SERVICE
# Fails the build at once without a known service, rather than with an empty image.
RUN case "$SERVICE" in auth|trees|sessions|hooks|gateway|web) ;; \
      *) echo "build with --build-arg SERVICE=auth|trees|sessions|hooks|gateway|web (got '$SERVICE')" >&2; exit 1;; esac
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
# Manifests only, so the npm ci layers below stay cached until a dependency changes.
# Every workspace manifest is copied so that package-lock.json matches the workspace list.
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY services/kit/package.json services/kit/
COPY services/auth/package.json services/auth/
COPY services/trees/package.json services/trees/
COPY services/sessions/package.json services/sessions/
# A workspace the previous release lacks (its images are built from its own tree with this
# Dockerfile, tests/containers/stack.ts): the bracket makes the source a pattern, which may match
# nothing there.
COPY services/hook[s]/package.json services/hooks/
COPY services/gateway/package.json services/gateway/
COPY clients/api/package.json clients/api/
COPY services/web/package.json services/web/
COPY tests/support/package.json tests/support/

# The web app: the typed client and the contract's closed lists (proto/, built through the web
# app's project references) compiled, the app type-checked and bundled by esbuild (its platform
# binary is an optional dependency, so optional ones stay), then served by nginx.
# These stages come before the services' so that a builder without BuildKit, which builds every
# stage up to its target, reaches `web` without the service stages.
FROM base AS web-build
RUN --mount=type=secret,id=npm_ca \
  if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
  npm ci --workspace=@tdt/web --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY proto/ proto/
COPY clients/api/ clients/api/
COPY services/web/ services/web/
RUN node_modules/.bin/tsc -b services/web && npm run build --workspace=@tdt/web

FROM nginx:1.27-alpine AS web
COPY infra/web/nginx.conf /etc/nginx/conf.d/default.conf
COPY infra/web/web-headers.inc infra/web/proxy.inc /etc/nginx/conf.d/
COPY --from=web-build /app/services/web/dist/ /usr/share/nginx/html/
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tdt-web" org.opencontainers.image.version=$VERSION \
  org.opencontainers.image.revision=$REVISION

# Production dependencies of this service only (and of kit and proto, through the workspace links);
# the gateway's include redoc, whose standalone bundle it serves from node_modules.
# No install scripts are needed: @node-rs/argon2 (auth) ships prebuilt binaries as optional
# dependencies.
FROM base AS deps
# Each stage declares the argument it uses (builders differ on whether a child stage inherits it).
ARG SERVICE
# --ignore-scripts skips the root postinstall too, so our dependency patches are applied here:
# patches/apply.mjs fails the build if one no longer fits the installed version.
COPY patches/ patches/
RUN --mount=type=secret,id=npm_ca \
  if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
  npm ci --workspace=@tdt/$SERVICE --omit=dev --ignore-scripts --no-audit --no-fund && node patches/apply.mjs

# The compiler and every type package; optional deps are skipped (platform binaries of dev tools).
FROM base AS build
ARG SERVICE
RUN --mount=type=secret,id=npm_ca \
  if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
  npm ci --workspace=@tdt/$SERVICE --include-workspace-root --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY proto/ proto/
COPY services/kit/ services/kit/
COPY services/$SERVICE/ services/$SERVICE/
# Builds proto, its contracts and kit too, through the project references. Then the service's
# runtime files into one folder the final stage copies: dist, and the migrations and demo trees
# where the service has them.
RUN node_modules/.bin/tsc -b services/$SERVICE \
  && mkdir -p /out/services/$SERVICE \
  && for part in dist migrations demo; do \
       if [ -d services/$SERVICE/$part ]; then cp -r services/$SERVICE/$part /out/services/$SERVICE/; fi; \
     done

FROM node:20-bookworm-slim
ARG SERVICE
ENV NODE_ENV=production
ENV TDT_SERVICE=$SERVICE
# In a container the service must be reachable from other containers; outside one it listens
# on loopback only (GRPC_BIND_HOST, GATEWAY_HOST and METRICS_HOST default to 127.0.0.1).
ENV GRPC_BIND_HOST=0.0.0.0 GATEWAY_HOST=0.0.0.0 METRICS_HOST=0.0.0.0
WORKDIR /app
# Manifests and node_modules (with the @tdt/* workspace links), then what the links point at.
COPY --from=deps /app ./
COPY --from=build /app/proto/dist proto/dist
COPY --from=build /app/services/kit/dist services/kit/dist
# dist, migrations (auth, trees, sessions, hooks) and demo (trees: loaded into an empty database when
# DEMO_DATA=true).
COPY --from=build /out/ ./
COPY infra/docker/ infra/docker/
# Files stay owned by root: the service only reads them. The one folder it writes, its state
# (the JWKS cache), is the node user's, so a volume mounted there starts out writable by it.
RUN mkdir -p /home/node/.local/state && chown -R node:node /home/node/.local
USER node
# 8000 (gateway), 50051 (auth), 50052 (trees), 50053 (sessions), 50054 (hooks): the probe picks
# by TDT_SERVICE.
EXPOSE 8000 50051 50052 50053 50054
# Each service's own check, following a changed *_PORT: gRPC health for the backends (with
# mutual TLS, presenting the service's own certificate); /health, not /ready, for the gateway,
# so that a stopped downstream service does not mark the gateway unhealthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "infra/docker/healthcheck.mjs"]
# Last, so that a new version rebuilds no layer above.
ARG VERSION=dev
ARG REVISION=unknown
ENV TDT_VERSION=$VERSION
LABEL org.opencontainers.image.title="tdt-$SERVICE" org.opencontainers.image.version=$VERSION \
  org.opencontainers.image.revision=$REVISION
# Shell form through exec, so the service is PID 1 and gets SIGTERM directly.
CMD ["sh", "-c", "exec node services/$TDT_SERVICE/dist/main.js"]
