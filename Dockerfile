# SCOMS image: one image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=scoms.settings

# WeasyPrint (the purchase-order PDF) needs Pango and HarfBuzz; Noto CJK renders Chinese
# supplier names and addresses in it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# var/ holds collected static files and the beat schedule; the app runs as an unprivileged user.
RUN useradd --system --home-dir /app --no-create-home scoms \
 && mkdir -p /app/var \
 && chown -R scoms:scoms /app/var
USER scoms

EXPOSE 8000
CMD ["gunicorn", "scoms.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
