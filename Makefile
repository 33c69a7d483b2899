# 住民基本台帳・戸籍の附票: the two commands a newcomer needs are `make run` and `make test` (see README.md).
#
# Settings come from the environment or .env (config/settings.py). Defaults: SQLite in var/ and the filesystem
# Celery broker in var/broker/, so nothing but Python 3.11 is needed. Set DATABASE_URL / CELERY_BROKER_URL for
# PostgreSQL / Redis.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
DEMO_ACCOUNTS := var/demo-accounts.txt

# settings.py refuses its built-in development secret unless told otherwise. Without DJANGO_SECRET_KEY we are on a
# developer's machine or in CI, so allow it (a .env that sets the key makes this irrelevant).
ifndef DJANGO_SECRET_KEY
export DJANGO_ALLOW_DEV_SECRET ?= true
endif
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv dev-env run test test-fast test-calendar lint bench chaos migrate seed demo-users static lock upgrade-check clean distclean

help:  ## この一覧を表示
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- Environment ------------------------------------------------------------------------------------------------
venv: $(STAMP)  ## .venv を作り、requirements-dev.txt を入れる（要件ファイルが変わったときだけ再実行）

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x "$(PY)" ]; then \
	  py="$(PYTHON)"; \
	  if ! "$$py" -c 'import venv' >/dev/null 2>&1 && [ -x /usr/bin/python3.11 ]; then py=/usr/bin/python3.11; fi; \
	  "$$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	    || { echo "Python 3.11 以上の $(PYTHON) が見つかりません（PYTHON=... で指定できます）" >&2; exit 1; }; \
	  echo "$(VENV) を $$py で作成します"; \
	  "$$py" -m venv "$(VENV)"; \
	fi
	"$(PY)" -m pip install --quiet --no-input -r requirements-dev.txt
	@touch "$@"

var:
	@mkdir -p var

dev-env: venv  ## 開発用の .env（生成した DJANGO_SECRET_KEY）がなければ作る。manage.py を make の外でも使えるように
	@"$(PY)" scripts/dev_env.py

# --- Run --------------------------------------------------------------------------------------------------------
run: venv dev-env migrate seed demo-users static  ## 準備をして web・worker・beat と相手団体（渋谷区）のインスタンス・模擬 J-LIS を起動
	@echo "web（gunicorn）・Celery worker・Celery beat と相手団体・模擬 J-LIS を起動します: http://$(HOST):$(PORT)/"
	exec "$(PY)" -m devtools.run_all --host "$(HOST)" --port "$(PORT)" --banner "$(DEMO_ACCOUNTS)"

migrate: venv var  ## データベースを最新にする（地方公共団体コード表も移行で入る）
	"$(PY)" manage.py migrate --noinput

# The number of residents to seed: settings.SEED_DEMO_RESIDENTS when the register is empty (so .env applies), 0 when
# it holds anyone.
define SEED_COUNT_PY
from django.conf import settings
from registry.models import Resident
if Resident.objects.exists():
    print(0)
else:
    print(settings.SEED_DEMO_RESIDENTS)
endef
export SEED_COUNT_PY

seed: migrate  ## 住民が一人もいなければ小さなダミーの区を作る（SEED_DEMO_RESIDENTS 人、--seed 1）
	@n="$$("$(PY)" manage.py shell --no-imports -v 0 -c "$$SEED_COUNT_PY")"; \
	case "$$n" in \
	  0) echo "住民票があるため、ダミーデータの投入を省略します";; \
	  *) echo "ダミーデータを作成します（$$n 人、--seed 1）"; \
	     "$(PY)" manage.py seed_dummy --residents "$$n" --seed 1;; \
	esac

demo-users: migrate  ## デモ用アカウントを作成して表示（make run 用。ダミーデータ専用）
	"$(PY)" manage.py create_demo_users --force-demo > "$(DEMO_ACCOUNTS)"
	@cat "$(DEMO_ACCOUNTS)"

static: venv  ## 静的ファイルを集める（collectstatic）
	"$(PY)" manage.py collectstatic --noinput -v 0

# --- Checks -----------------------------------------------------------------------------------------------------
# The whole suite in two passes: the quick tests on two processes (pytest-xdist; each has its own test database), then
# the slow ones (browsers, live servers, real worker processes) one at a time. Exit status 5 ("no tests collected": a
# PYTEST_ARGS that names only quick or only slow tests) is not a failure of either pass.
PYTEST_PASS = status=0; "$(PY)" -m pytest -p no:cacheprovider $(1) $(PYTEST_ARGS) || status=$$?; [ $$status -eq 0 ] || [ $$status -eq 5 ]

test: venv var  ## manage.py check、移行漏れの検査、pytest（全件: 速い試験を 2 プロセスで、遅い試験を一つずつ）
	"$(PY)" manage.py check
	"$(PY)" manage.py makemigrations --check --dry-run
	$(call PYTEST_PASS,-m "not slow" -n 2)
	$(call PYTEST_PASS,-m slow)

test-fast: venv var  ## 開発中の確認用: 遅い試験とブラウザの試験を除き、2 プロセスで並行に（CI は make test の全件）
	"$(PY)" -m pytest -m "not slow" -n 2 -p no:cacheprovider $(PYTEST_ARGS)

test-calendar: venv var  ## 日付・時刻に左右される試験を、土日・祝日・年末年始・改元の日の 3:00 と 21:30 で実行
	"$(PY)" scripts/calendar_runs.py $(PYTEST_ARGS)

lint: venv  ## ruff check と ruff format --check、mypy（django-stubs）で common・audit・transfers の型検査
	"$(PY)" -m ruff check .
	"$(PY)" -m ruff format --check .
	"$(PY)" -m mypy

# --- Proof at scale (bench/README.md; PostgreSQL and Redis of the machine, scratch databases dropped afterwards) ----
BENCH_PROFILE ?= full
CHAOS_PROFILE ?= full

bench: venv static  ## ベンチマーク一式（BENCH_PROFILE=full|quick）。bench/results/latest.md と latest.json に書く
	"$(PY)" bench/suite.py --profile "$(BENCH_PROFILE)"

chaos: venv static  ## 障害注入（CHAOS_PROFILE=full|ci）。bench/results/chaos-latest.md に書く
	"$(PY)" bench/chaos/suite.py --profile "$(CHAOS_PROFILE)"

# requirements.in / requirements-dev.in name the direct dependencies; pip-compile (pip-tools) pins them and everything
# they need, preferring the versions already pinned. PIP_COMPILE_ARGS=--upgrade (or --upgrade-package NAME) moves them.
PIP_COMPILE_ARGS ?=
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" "$(VENV)/bin/pip-compile" --quiet --strip-extras \
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(PIP_COMPILE_ARGS)

lock: venv  ## requirements.in・requirements-dev.in から requirements.txt・requirements-dev.txt を作り直す（pip-tools）
	$(PIP_COMPILE) --output-file=requirements.txt requirements.in
	$(PIP_COMPILE) --output-file=requirements-dev.txt requirements-dev.in

upgrade-check: venv  ## 固定した依存パッケージの新しい版を一覧する（更新はしない。PyPI に問い合わせる）
	"$(PY)" -m pip list --outdated

# --- Cleaning ---------------------------------------------------------------------------------------------------
clean:  ## 生成物を消す（キャッシュ・staticfiles・ブローカーのキュー・beat の記録）。データベースと .venv は残す
	rm -rf staticfiles .pytest_cache .ruff_cache .mypy_cache .hypothesis
	rm -rf var/broker var/celerybeat-schedule* var/celery-heartbeat "$(DEMO_ACCOUNTS)"
	find . -path "./$(VENV)" -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean  ## clean に加えて .venv と var/（SQLite のダミーデータを含む）も消す
	rm -rf "$(VENV)" var
