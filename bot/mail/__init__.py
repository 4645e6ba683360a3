"""Documents by e-mail: the receivers (own SMTP, IMAP polling) and their adapters."""
