"""hotline: call-center software for 12345 government-service hotlines, on a real Asterisk."""

__version__ = "0.1.0"
