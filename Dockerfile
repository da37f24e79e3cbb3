# The booking engine as an image: compiled JavaScript, production dependencies
# only, a non-root user, a healthcheck on /ready. docs/container.md says how it
# was built and checked here (podman; no Docker engine).
#
#   docker build -t booking-engine .
#   docker run -p 3000:3000 -e ADMIN_API_KEY=... -e DATABASE_URL=postgres://... booking-engine
#
# NODE_IMAGE: any Debian-based image with Node.js 20+ and npm (the official one by default).
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Build: every dependency, then TypeScript to dist/ (migrations copied along) and the booking page's assets.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not run (npm 11 skips them too); the page is built explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-page.ts ./scripts/
COPY web ./web
COPY src ./src
RUN npm run build && npm run build:page

# 2. Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime: dist/, the page's assets and production node_modules; no sources, no compiler.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    LOG_LEVEL=info
WORKDIR /app
# A fixed uid so volume ownership is predictable across rebuilds; no login shell, no home of its own.
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin booking \
 && mkdir -p /data && chown booking:booking /data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/booking-page/dist ./web/booking-page/dist
COPY package.json ./
USER booking
EXPOSE 3000
# The embedded database (no DATABASE_URL) and local avatars live here; with PostgreSQL only the avatars do (or S3).
VOLUME ["/data"]
# /ready: the database answers and the server takes requests (/health only says the process is up).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself as PID 1 handles SIGTERM (src/main.ts closes the server and the database).
CMD ["node", "dist/main.js"]
