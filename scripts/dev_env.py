"""Write the development `.env` that lets `manage.py` run outside make (`make run` calls this; README 「設定」).

Only for a developer's machine with dummy data: the file gets a freshly generated DJANGO_SECRET_KEY, so that
`.venv/bin/python manage.py ...` works as the README prints it without DJANGO_ALLOW_DEV_SECRET. An existing `.env`
is kept as it is; one without a DJANGO_SECRET_KEY line gets one appended. Nothing else is written.

    python scripts/dev_env.py [--path .env]
"""

import argparse
import re
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HEADER = (
    "# 開発用の設定（make run が作成。git の管理外）。ダミーデータの開発環境専用で、本番では使わないこと。\n"
    "# Development settings written by make run (scripts/dev_env.py); never used in production.\n"
    "# 他の設定は .env.example を参照。\n"
)
KEY_LINE = re.compile(r"^\s*(export\s+)?DJANGO_SECRET_KEY\s*=", re.MULTILINE)


def ensure_dev_env(path: Path) -> str:
    """Create `path` with a new key, or append a key to it when it has none. Returns what was done."""
    key_line = f"DJANGO_SECRET_KEY=dev-{secrets.token_urlsafe(48)}\n"
    if not path.exists():
        path.write_text(HEADER + key_line, encoding="utf-8")
        path.chmod(0o600)
        return "created"
    text = path.read_text(encoding="utf-8")
    if KEY_LINE.search(text):
        return "kept"
    separator = "" if not text or text.endswith("\n") else "\n"
    path.write_text(text + separator + key_line, encoding="utf-8")
    return "key added"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=BASE_DIR / ".env")
    args = parser.parse_args(argv)
    done = ensure_dev_env(args.path)
    if done != "kept":
        print(f"{args.path}: 開発用の DJANGO_SECRET_KEY を書きました（{done}）")  # noqa: T201 - a command's output
    return 0


if __name__ == "__main__":
    sys.exit(main())
