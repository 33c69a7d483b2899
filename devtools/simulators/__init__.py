"""Stand-ins for the systems this ward talks to that are not instances of this system (J-LIS), for `make run` and
the end-to-end test. They speak the real envelope protocol (transfers.envelope, transfers.acks) over loopback."""
