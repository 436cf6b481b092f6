# The Veritas glue: the `veritas` command (serve, worker, db migrate, user add).
FROM python:3.11-slim-bookworm
WORKDIR /src
COPY pyproject.toml README.md ./
COPY glue ./glue
COPY sql ./sql
COPY migrations ./migrations
COPY web ./web
RUN pip install --no-cache-dir . && useradd --system --uid 10001 veritas
USER veritas
WORKDIR /home/veritas
EXPOSE 8000
CMD ["veritas", "serve", "--host", "0.0.0.0", "--port", "8000"]
