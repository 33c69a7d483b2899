"""The 異動 entry screens (form → 確認 → 記録), one module per family like the services."""
