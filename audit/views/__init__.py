"""The supervisor's screens: the access log (log.py) and 閲覧制限・個別許可 (restrictions.py). Every view goes
through the gate (audit.gate.personal_data_view); looking at the log is itself logged."""
