# One image for the whole monorepo; the app to run is chosen by the APP build argument
# (or by overriding the command: `node dist/apps/<app>/src/main.js`).
FROM node:20-bookworm-slim AS build
WORKDIR /repo
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts/copy-assets.mjs ./scripts/copy-assets.mjs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ARG APP=api
ENV NODE_ENV=production APP=${APP} HOST=0.0.0.0
WORKDIR /app
COPY --from=build /repo/node_modules ./node_modules
COPY --from=build /repo/dist ./dist
COPY package.json ./
USER node
CMD ["sh", "-c", "exec node dist/apps/${APP}/src/main.js"]
