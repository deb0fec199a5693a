# One image for both processes; docker-compose.yml picks the command.
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund --loglevel=error
ENV NODE_ENV=production
CMD ["node", "dist/src/gateway/main.js"]
