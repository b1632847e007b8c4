# The worker image for docker-compose.yml: Node 20, the system's ffmpeg, the project's code.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
CMD ["node", "--require", "tsx/cjs", "src/workers/main.ts", "--roles", "all"]
