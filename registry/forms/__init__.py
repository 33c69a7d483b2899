"""Forms of registry's screens, beside their views: search (住民検索) and changes/ (the 異動 entry screens)."""
