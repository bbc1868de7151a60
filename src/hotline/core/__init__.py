"""What every layer shares and that does no I/O: value kinds and their validation."""
