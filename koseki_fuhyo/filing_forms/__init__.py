"""Forms of the 戸籍届出 entry screens (届出受付): one module per family of 届出, like the views."""
