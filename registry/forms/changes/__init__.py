"""Forms of the 異動 entry screens: one module per family, like the services and the views."""
