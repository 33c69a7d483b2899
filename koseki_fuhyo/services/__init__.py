"""Every change to the 戸籍 rows and the 附票 goes through these modules: `fuhyo` (the 附票 itself and its sync with
the 住民票), `koseki` (opening and closing 戸籍) and `filings` (one function per 戸籍届出事件)."""
