# The Azure ML environment of the training pipeline's steps and the batch deployment:
# emotion_clf with its pinned dependencies and the [azure] extra (the register step talks
# to the workspace). Built by Azure ML from the context `emotion-clf azure pipeline submit`
# stages (this file, environment/constraints.txt, pyproject.toml, README.md, src/).
FROM python:3.11-slim-bookworm
WORKDIR /opt/emotion-clf
COPY constraints.txt pyproject.toml README.md ./
COPY src ./src
# torch's CPU build first, as `make setup` does; the project's range accepts it
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir -c constraints.txt ".[azure]" \
    && emotion-clf --help > /dev/null
