#!/usr/bin/env python
"""Equivalent to the ``tamarind`` console command, for tools that expect manage.py."""

from tamarind.cli import main

if __name__ == "__main__":
    main()
