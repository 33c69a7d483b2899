# One image for web (gunicorn), Celery worker and Celery beat; docker-compose.yml chooses the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3 \
    DJANGO_SETTINGS_MODULE=config.settings_production

# A fixed, unprivileged user: files in named volumes keep one owner across rebuilds.
RUN groupadd --system --gid 10001 ward \
 && useradd --system --uid 10001 --gid ward --home-dir /home/ward --create-home --shell /usr/sbin/nologin ward

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. Every wheel needed exists for this platform.
COPY requirements.txt ./
RUN pip install --no-input -r requirements.txt

# The code, listed one folder at a time on purpose: .env, .venv, var/ (SQLite with dummy data) and .git never enter
# the image, whatever the build context holds. A new Django app must be added here. devtools/ (dummy data, demo
# accounts, simulators) is left out on purpose: the production settings do not install it.
COPY manage.py ./
COPY config/ config/
COPY common/ common/
COPY registry/ registry/
COPY koseki_fuhyo/ koseki_fuhyo/
COPY transfers/ transfers/
COPY docs/schemas/ docs/schemas/
COPY audit/ audit/
COPY operations/ operations/
COPY templates/ templates/
COPY static/ static/

# Static files are collected at build time (served by WhiteNoise). The production settings refuse to start without
# a real secret, so this one step uses the base settings (which collect the same files) with the built-in key, which
# exists only during this step. Every process of the image runs with config.settings_production (README 「本番の設定」).
RUN DJANGO_SETTINGS_MODULE=config.settings DJANGO_ALLOW_DEV_SECRET=true python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/var \
 && chown ward:ward /app/var

USER ward

EXPOSE 8000

# gunicorn reads the number of workers from WEB_CONCURRENCY. --no-control-socket: gunicorn 27 otherwise opens a
# control socket in $HOME, which nobody uses here.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
