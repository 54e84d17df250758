# The qbsync engine image (used by docker-compose.kafka.yml's `engine` service).
#   docker build -t qbsync .    then    docker run --rm qbsync qbsync --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
RUN pip install . \
 && useradd --create-home --uid 10001 qbsync \
 && mkdir -p /app/.qbsync && chown qbsync /app/.qbsync

USER qbsync
CMD ["qbsync", "worker"]
