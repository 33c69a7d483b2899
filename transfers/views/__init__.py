"""The notice screens: outbox, inbox, partners (server-rendered, every view behind audit.gate)."""
