# The Azure ML environment of the online deployment: Azure ML's inference server (which runs
# score.py) beside emotion_clf's run-time needs. The server's pins clash with the project's
# (see environment/azureml/score-requirements.txt), so emotion_clf goes in with --no-deps,
# exactly as `make azureml-venv` builds the environment the tests serve score.py from.
FROM python:3.11-slim-bookworm
WORKDIR /opt/emotion-clf
COPY score-requirements.txt pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir -r score-requirements.txt \
    && pip install --no-cache-dir --no-deps . \
    && azmlinfsrv --help > /dev/null
