"""`make chaos`: the system under injected faults. notices.py (delivery of notices while workers are killed, Redis is
restarted and partners go offline), web.py (the web tier under Redis and PostgreSQL outages) with the clerks it
runs in clerk.py; faults.py holds the fault proxy and the restartable Redis server they share."""
