# The Azure ML environment of the online deployment, built the way Azure documents a custom
# one: Azure ML's minimal inference image (its inference server set-up, its non-root user,
# the conventions the platform's probes and logging expect) with a conda environment of our
# own, where Python 3.11, Azure ML's inference server and emotion_clf's run-time needs live.
# The server's pins clash with the project's (see environment/azureml/score-requirements.txt),
# so emotion_clf goes in with --no-deps, exactly as `make azureml-venv` builds the environment
# the tests serve score.py from.
# hadolint ignore=DL3007
FROM mcr.microsoft.com/azureml/minimal-py312-inference:latest
# the base image's own non-root user, by name as Azure's examples use it
# hadolint ignore=DL3066
USER dockeruser
ENV CONDA_ENV_DIR=/opt/miniconda/envs
WORKDIR /tmp/emotion-clf
COPY --chown=dockeruser score-requirements.txt pyproject.toml README.md ./
COPY --chown=dockeruser src ./src
RUN conda create -y -q -n userenv python=3.11 pip \
    && "$CONDA_ENV_DIR/userenv/bin/pip" install --no-cache-dir \
        --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && "$CONDA_ENV_DIR/userenv/bin/pip" install --no-cache-dir -r score-requirements.txt \
    && "$CONDA_ENV_DIR/userenv/bin/pip" install --no-cache-dir --no-deps . \
    && "$CONDA_ENV_DIR/userenv/bin/azmlinfsrv" --help > /dev/null \
    && conda clean -a -y
# the inference server runs in our environment, not the image's own amlenv
ENV AZUREML_CONDA_ENVIRONMENT_PATH="$CONDA_ENV_DIR/userenv"
ENV PATH="$AZUREML_CONDA_ENVIRONMENT_PATH/bin:$PATH"
ENV LD_LIBRARY_PATH="$AZUREML_CONDA_ENVIRONMENT_PATH/lib:$LD_LIBRARY_PATH"
