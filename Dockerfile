# The recovery coach as an image: build a wheel, install it on a slim Python, run as a
# non-root user with the database in a volume.
#   docker build -t recovery-coach .
#   docker run -d --env-file .env -v coach-data:/data recovery-coach
# Without a token it opens the terminal chat: docker run -it -v coach-data:/data recovery-coach

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coach \
    && mkdir /data && chown coach:coach /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER coach
WORKDIR /home/coach
ENV BOT_DB_PATH=/data/bot.sqlite3 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8443
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
ENTRYPOINT ["python", "-m", "bot"]
