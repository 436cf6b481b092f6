# PostgreSQL 15 with pgTAP and plpgsql_check, for docker-compose.yml and for
# running tests/sql/.
FROM postgres:15-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15-pgtap postgresql-15-plpgsql-check \
    && rm -rf /var/lib/apt/lists/*
