"""Benchmarks that print figures; not tests (timings vary with the machine).

``import_file`` writes a realistic recipients' workbook; ``imports`` measures the
import pipeline on it against a plain django-import-export resource.
"""
