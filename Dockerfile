# Noper in a container: build with the compilers better-sqlite3 needs, run slim as a non-root user with data in /data.

# --- build: dependencies (native addons compiled here) and the TypeScript build
FROM node:22-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first (native addons compile here), so a code change does not rebuild them.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3 esbuild sharp
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY server ./server
COPY migrations ./migrations
COPY plugins ./plugins
COPY views ./views
COPY locales ./locales
COPY public ./public
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- run
FROM node:22-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# The code belongs to root (read-only for the server); only /data is the server's to write.
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data \
 && ln -s /app/bin/noper.js /usr/local/bin/noper
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/noper.js", "serve"]
