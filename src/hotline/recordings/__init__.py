"""Recordings: catalogue, hashing, speech-to-text."""
