"""The 戸籍届出 entry screens (届出受付: form → 確認 → 記録), one module per family of 届出."""
