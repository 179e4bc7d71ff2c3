# newsbot: `docker build -t newsbot .` then
#   docker run --rm -e DISCORD_TOKEN=... -v newsbot-data:/data newsbot
# Without DISCORD_TOKEN it prints a briefing of the configured sources and exits
# (add -i to type console commands).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSBOT_DATA_DIR=/data \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# Installed the way dev.py installs it: pip into a virtual environment, from pyproject.toml.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 newsbot \
    && mkdir -p /data && chown newsbot:newsbot /data

COPY config ./config
COPY seeds ./seeds

USER newsbot
VOLUME ["/data"]
ENTRYPOINT ["newsbot", "run"]
