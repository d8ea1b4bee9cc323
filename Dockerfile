# The Opinion Desk app image: `opinion-desk run` (one process, embedded store) alone, or the web and worker processes
# of docker-compose.yml beside Elasticsearch, PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OPINION_DESK__DESK__HOST=0.0.0.0 \
    OPINION_DESK__DESK__DATA_DIR=/data

WORKDIR /app
COPY . .
# editable install: the dashboard's static/ and the shipped rules/ stay beside the package; the extras bring the
# PostgreSQL driver ([state] url postgresql://) and the Redis client ([desk] message_queue redis://)
# gcc builds the C extensions (analyzers/_topics*.c, analyzers/_features.c) and is removed again
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --upgrade pip && pip install -e '.[postgres,redis]' \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data desk \
    && mkdir -p /data /evidence && chown desk /data /evidence

USER desk
# /evidence: the evidence archive the processes of docker-compose.yml share (a new named volume takes this owner)
VOLUME ["/data"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/api/v1/health').status==200 else 1)"
CMD ["opinion-desk", "run"]
