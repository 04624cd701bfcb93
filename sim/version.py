"""The program's version, in the lowest layer so any module may record it.

Kept apart from ``sim/__init__.py`` so that writing a manifest or a report does not
import the package root (and, through it, nothing above the module asking).
"""

__version__ = "0.2.0"
