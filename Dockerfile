# scalebot: the web app (`scalebot serve`) or the scheduler (`scalebot scheduler`) from one image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY localslack ./localslack
COPY demometrics ./demometrics
COPY common ./common
RUN pip install --no-cache-dir --prefix=/install -c requirements.lock ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LOG_FORMAT=json
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /app --create-home scalebot
WORKDIR /app
USER scalebot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)"]
# Replicas behind a load balancer run with --no-scheduler next to one `scalebot scheduler`.
CMD ["scalebot", "serve", "--host", "0.0.0.0", "--port", "3000", "--no-scheduler"]
