"""Test support shared by every app's tests: factories and fixtures (imported by tamarind/conftest.py)."""
