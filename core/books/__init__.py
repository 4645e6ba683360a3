"""Filed expenses in book terms: the period's VAT picture, the ledger exports, closing.

Pure code: the writers take plain entries and write bytes to a binary stream, one record
at a time, so memory does not grow with the number of documents.
"""
