"""Run the simulated J-LIS (devtools.simulators.jlis) on loopback until SIGINT/SIGTERM.

`--init-only` generates its keys (if missing), writes its public key document and exits: `make run` uses it to
register J-LIS in both wards before anything starts.
"""

import datetime as dt
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from devtools.simulators.jlis import PUBLIC_FILE, JlisSimulator, load_or_create_identity, serve


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


class Command(BaseCommand):
    help = "模擬 J-LIS（附票本人確認情報の受信と符号の払い出し）を起動する"

    def add_arguments(self, parser: CommandParser) -> None:
        default = Path(settings.VAR_DIR) / "jlis"
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900, help="待ち受けるポート（0 で空いているもの）")
        parser.add_argument("--key-dir", type=Path, default=default / "keys", help="J-LIS の鍵と public.json")
        parser.add_argument("--state", type=Path, default=default / "state.sqlite3", help="受信記録の SQLite ファイル")
        parser.add_argument(
            "--partners",
            type=Path,
            default=None,
            help="受け付ける団体の公開鍵（export_public_key の JSON）のディレクトリまたはファイル"
            "（既定: --key-dir の隣の partners/）",
        )
        parser.add_argument("--clock-window", type=int, default=settings.TRANSFERS_CLOCK_WINDOW, help="秒")
        parser.add_argument("--init-only", action="store_true", help="鍵と公開鍵ファイルを用意して終了する")

    def handle(self, *args, **options) -> None:
        key_dir: Path = options["key_dir"]
        if options["init_only"]:
            load_or_create_identity(key_dir)
            self.stdout.write(f"J-LIS の公開鍵: {key_dir / PUBLIC_FILE}")
            return
        partners = options["partners"] or key_dir.parent / "partners"
        partners.mkdir(parents=True, exist_ok=True)
        simulator = JlisSimulator(
            key_dir=key_dir,
            state=options["state"],
            partners=partners,
            clock_window=dt.timedelta(seconds=options["clock_window"]),
        )
        server = serve(simulator, options["host"], options["port"])
        host, port = server.server_address[:2]
        self.stdout.write(f"模擬 J-LIS: http://{host}:{port}/inbound/（公開鍵 {key_dir / PUBLIC_FILE}）")
        self.stdout.flush()
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.serve_forever(poll_interval=0.2)
        except (_Stop, KeyboardInterrupt):
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.server_close()
        self.stdout.write("模擬 J-LIS を停止しました")
