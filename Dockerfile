# syntax=docker/dockerfile:1
# The service's image: built in one stage, run from a second that holds the runtime dependencies and dist/ only.
# test/cli/production-install.test.ts repeats the runtime stage's steps in a temporary folder and starts the
# service with its command and environment (no container engine needed): keep the steps in the forms it reads.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install script: `prepare` would build before the sources are here.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin/ bin/
COPY --from=build /app/dist/ dist/
# The data folder (the embedded database, the issuer key, written mail) belongs to the unprivileged user.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and receives SIGTERM itself: the service stops gracefully on it.
CMD ["node", "--max-semi-space-size=8", "dist/cli.js", "serve"]
