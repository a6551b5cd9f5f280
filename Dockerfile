# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# ffprobe/ffmpeg read video metadata and make video thumbnails.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 GAUNG_DATA_DIR=/var/lib/gaung
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY config ./config
COPY src ./src
COPY workers ./workers
# Gaung runs as plain JavaScript: the bundle is built once here, not transpiled at every start.
RUN node config/build.mjs
RUN useradd --system --uid 10001 --home /var/lib/gaung gaung \
 && mkdir -p /var/lib/gaung && chown gaung /var/lib/gaung
USER gaung
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "dist/server.js"]
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
