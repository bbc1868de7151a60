"""The long-running controller: AMI in, Redis (live) and SQLite (history) out."""

from hotline.controller.core import Controller

__all__ = ["Controller"]
