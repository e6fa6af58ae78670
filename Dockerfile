# kbb in a container, for data builds on many machines (Kubernetes Indexed Jobs, Cloud Batch, Cloud
# Run jobs): `kbb build-tfrecord --emit_job k8s|batch` writes a job that runs this image.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/kbb:TAG .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/kbb:TAG
#
# Credentials come from the machine's service account (Application Default Credentials), so the
# image holds none. Only the runtime dependencies are installed, without install scripts: the native
# CRC-32C, snappy and esbuild binaries come as packages of their own and need none, and the optional
# native TensorFlow backend (@tensorflow/tfjs-node), whose script downloads libtensorflow, is left
# unbuilt (building data needs no TensorFlow; kbb falls back to wasm). Not --omit=optional: that
# would drop those native binaries too.
FROM node:20-bookworm-slim
WORKDIR /kbb
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY lib ./lib
COPY repl ./repl
COPY data ./data
COPY tsconfig.json ./
ENTRYPOINT ["node", "/kbb/bin/kbb.js"]
