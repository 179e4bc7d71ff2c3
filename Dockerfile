# newsbot: `docker build -t newsbot .` then
#   docker run --rm -e DISCORD_TOKEN=... -v newsbot-data:/data newsbot
# Without DISCORD_TOKEN it prints a briefing of the configured sources and exits (add -i to type
# console commands). Any other command: `docker run --rm -v newsbot-data:/data newsbot brief`.
# The /data volume must be writable by uid 10001 (a named volume is; chown a bind-mounted folder).

# Build stage: newsbot as a wheel. The base is pinned (Python patch release and Debian release).
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Runtime stage: the locked dependencies first (a layer that survives code edits), then the wheel.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSBOT_DATA_DIR=/data \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv \
    && useradd --create-home --uid 10001 newsbot \
    && mkdir -p /data && chown newsbot:newsbot /data
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

WORKDIR /app
COPY config ./config
COPY seeds ./seeds

USER newsbot
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["newsbot", "health"]
ENTRYPOINT ["newsbot"]
CMD ["run"]
