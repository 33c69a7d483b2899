from common.tasks import heartbeat


def test_heartbeat_writes_the_time(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    written = heartbeat()
    assert (tmp_path / "celery-heartbeat").read_text(encoding="utf-8").strip() == written
