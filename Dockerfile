# emotion-clf API server: `emotion-clf serve`, which fetches the registry's model at start-up.
#
# No model is baked in: the container resolves its model in the registry named by
# EMOTION_CLF_TRACKING_URI (`baseline`, or the version EMOTION_CLF_SERVE_MODEL pins), fetches
# and verifies the bundle, then reports ready. Secrets (EMOTION_CLF_REFRESH_TOKEN, registry
# credentials) come from the environment at run time, never from the image.
#
#   docker build -t emotion-clf:dev .
#   docker run -p 8000:8000 -e EMOTION_CLF_TRACKING_URI=http://mlflow:5000 \
#       -e EMOTION_CLF_REFRESH_TOKEN emotion-clf:dev
#
# PYTHON_IMAGE must be a Debian-based image with python3 (3.11) and its venv module, the same
# in both stages (the virtual environment is copied from one to the other). make oci-image
# builds this file without a Docker engine (buildah, with a Debian base made by mmdebstrap).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtual environment with the pinned runtime dependencies and the package ------
FROM ${PYTHON_IMAGE} AS build
# PyTorch's CPU build: the default index would install the CUDA build (gigabytes).
# Without a route to PyTorch's index, pass pip's options for a local copy instead, e.g.
# --build-arg TORCH_PIP_ARGS="--find-links http://127.0.0.1:PORT/" (its +cpu wheel outranks
# the plain version on the default index).
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY environment/requirements.txt environment/constraints.txt environment/
# TORCH_PIP_ARGS holds several options: word splitting is wanted here.
# hadolint ignore=SC2086
RUN /opt/venv/bin/pip install ${TORCH_PIP_ARGS} \
        "torch==$(sed -n 's/^torch==//p' environment/requirements.txt)" \
    && /opt/venv/bin/pip install -r environment/requirements.txt -c environment/constraints.txt
COPY pyproject.toml README.md ./
COPY src/ src/
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/emotion-clf serve --help > /dev/null

# -- runtime: the environment, a non-root user, nothing else ---------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/app app \
    && mkdir -p /var/lib/emotion-clf \
    && chown app:app /var/lib/emotion-clf
COPY --from=build /opt/venv /opt/venv
# The host is set here, not by changing the server's default (127.0.0.1): in a container the
# port must be reachable from outside. EMOTION_CLF_HOME holds the model cache, prediction log
# and feedback files (mount a volume there to keep them).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EMOTION_CLF_HOME=/var/lib/emotion-clf \
    EMOTION_CLF_SERVE_HOST=0.0.0.0 \
    EMOTION_CLF_SERVE_PORT=8000 \
    EMOTION_CLF_REFRESH_ENDPOINTS=
# numeric, so a platform can verify that it is not root without reading /etc/passwd
USER 10001:10001
WORKDIR /var/lib/emotion-clf
EXPOSE 8000
# Liveness only (/health): start-up fetches and verifies the model, which can take a while.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('EMOTION_CLF_SERVE_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["emotion-clf", "serve"]
