# syntax=docker/dockerfile:1
# syncd container image: `docker build -t syncd .` (see docs/admin-guide.md, "Running in
# containers"). Stage 1 builds the pure-Python wheel; the final stage installs it with the
# dependencies pinned in docker/requirements.lock and runs as an unprivileged user.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY syncd ./syncd
COPY connectors ./connectors
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
# libpq5: the system libpq the [postgres] extra's psycopg uses (patched by image rebuilds).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 syncd \
    && useradd --system --uid 10001 --gid syncd --home-dir /var/lib/syncd --shell /usr/sbin/nologin syncd \
    && install -d -o syncd -g syncd -m 0700 /var/lib/syncd
# The Google client ships ~600 API descriptions (110 MB); the Gmail connector reads only one.
COPY docker/requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-deps /tmp/wheels/syncd-*.whl \
    && pip check \
    && find /usr/local/lib/python3.11/site-packages/googleapiclient/discovery_cache/documents \
        -type f ! -name gmail.v1.json -delete \
    && rm -rf /tmp/requirements.lock /tmp/wheels
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/syncd-entrypoint

# Nothing is written outside the state volume (and /tmp, a tmpfs under a read-only root).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATE_DIRECTORY=/var/lib/syncd \
    HOME=/var/lib/syncd \
    SYNCD_CONFIG=/etc/syncd/syncd.toml \
    SYNCD_HEALTH_URL=http://127.0.0.1:9464/healthz
VOLUME ["/var/lib/syncd"]
USER 10001:10001
EXPOSE 9464
# /healthz answers 200 while the main loop ticks; needs [metrics] listen on port 9464
# (or SYNCD_HEALTH_URL pointing at the configured port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/syncd-entrypoint", "healthcheck"]
# SIGTERM finishes the page or batch in hand, then syncd exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/syncd-entrypoint"]
CMD ["run"]
