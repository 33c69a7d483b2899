"""Exports for hand-over (監督者): a CSV inside an AES-256 encrypted ZIP, its password shown once, a 管理簿 entry.

Decisions (docs/exports.md says the same for the supervisor and the operator):

- **Container**: ZIP with WinZip AES-256 encryption (pyzipper, pinned in requirements.txt), one CSV entry, deflated,
  ZIP64 always on (a stream's size is not known beforehand). 7-Zip, WinZip, Lhaplus and macOS' Archive Utility open
  it with the password; Windows Explorer's built-in ZIP support and Info-ZIP `unzip` do not know AES and refuse it
  (they never show the content without the password either).
- **CSV**: UTF-8 with a BOM (Excel then reads it as UTF-8), CRLF line ends, every field quoted when needed (RFC 4180).
  Not CP932: CP932 cannot hold 𠮷, 髙 in every form, nor the variation sequences (IVS, 葛󠄀) the register keeps, so
  names would silently change on the way out. A cell starting with = + - @ (a formula to a spreadsheet) is
  prefixed with an apostrophe; names, codes and dates never start with one.
- **Password**: `secrets`, 24 characters from an alphabet without look-alikes (no 0/O/o, 1/l/I, 5/S, 2/Z, 8/B), about
  114 bits. Shown once on the page that answers the export (a POST, `Cache-Control: no-store`); never in the file
  name, the 管理簿, the audit log, the session or a log line. Nothing about it is stored: the file itself proves which
  password was issued (the 管理簿 keeps the file's SHA-256, and only that password opens that file).
- **File**: written row by row into the ZIP entry (constant memory however many rows), in `settings.EXPORT_DIR`
  (folder 0700, file 0600), named by kind and time with a random part, never by a person. Downloaded once (the
  download claims the file by renaming it, then unlinks it while sending); what is never downloaded is removed by
  `purge_old_exports()` after `settings.EXPORT_KEEP_HOURS` (the nightly batch calls it).
- **Ledger**: each export writes one `HandoverRecord` (管理簿) and one `operation` entry in the audit chain, in the
  same transaction as the gate's access entry (subject ids of the exported persons for a records export).
"""

from .storage import purge_old_exports

__all__ = ["purge_old_exports"]
