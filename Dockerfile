# One image for the whole monorepo; the app to run is chosen by the APP build argument
# (or by overriding the command: `node dist/apps/<app>/src/main.js`, as deploy/k8s does).
# Node 24, the current LTS line (Node 20 reached its end of life). The code is tested on the
# versions `engines` in package.json names: 20.19+ (the CI machines) and 24 (this image).
FROM node:24-bookworm-slim AS build
WORKDIR /repo
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts/copy-assets.mjs ./scripts/copy-assets.mjs
# The build serves the OpenAPI document from dist (copy-assets.mjs).
COPY docs/openapi.yaml ./docs/openapi.yaml
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ARG APP=api
ENV NODE_ENV=production APP=${APP} HOST=0.0.0.0
WORKDIR /app
COPY --from=build /repo/node_modules ./node_modules
COPY --from=build /repo/dist ./dist
COPY package.json ./
# uid 1000, the user deploy/k8s runs the containers as.
USER node
CMD ["sh", "-c", "exec node dist/apps/${APP}/src/main.js"]
