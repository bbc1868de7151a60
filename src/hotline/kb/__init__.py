"""The knowledge base (知识库): answers per category, every edit a new version, answers
proposed for a call from its IVR path and words, and contradictory answers found (pure).

See docs/kb.md.
"""
