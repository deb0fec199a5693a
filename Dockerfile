# One image for both processes; docker-compose.yml picks the command (gateway by default).
# Built with the project's own commands, `npm ci` and `npm run build`, so it cannot drift from the
# README. `npm run build` compiles the server and copies the Lua scripts into dist/ (the npm
# packages of packages/ are built by `npm run pack`, not for the image).

# ---- build: every dependency (TypeScript, ...), then dist/
FROM node:20-slim AS build
WORKDIR /app
# Without the workspaces' folders (packages/*) npm ci skips them: the image needs neither package.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- production dependencies only (no TypeScript, jest or SWC in the final image)
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json: the version the OpenAPI/AsyncAPI documents report. The console's static files are
# read from src/console/public at run time (src/console/routes.ts, consolePublicDir).
COPY package.json ./
COPY src/console/public ./src/console/public
# The operator CLI on PATH as `sb` (package.json "bin"): compiled to plain Node by `npm run build`,
# it needs only the production dependencies above (`npm run sb` would need tsx, a dev dependency).
RUN chmod 755 dist/scripts/sb.js && ln -s /app/dist/scripts/sb.js /usr/local/bin/sb
# The base image's unprivileged user (uid 1000). The files above stay root-owned: it only reads them.
USER node
# Gateway: PORT (HTTP, socket.io, /metrics, /readyz). Worker: METRICS_PORT (/metrics, /readyz).
EXPOSE 3000 9464
CMD ["node", "dist/src/app/gateway-main.js"]
