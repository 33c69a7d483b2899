"""Operations: backups of the database (and the audit seals) and their restore check; the streamed encrypted
container both the backups and the J-LIS bulk export are written in."""
