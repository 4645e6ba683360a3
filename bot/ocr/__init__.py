"""OCR adapters for `core.reading`: Tesseract and the process pool the worker uses."""
