"""The views of transfers: the notice screens (outbox, inbox, partners: server-rendered, every view behind
audit.gate) and the machine endpoint partners post envelopes to (inbound: no login, the signature authenticates)."""
