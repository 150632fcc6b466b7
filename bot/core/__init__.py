"""The functional core: pure, no I/O, no clock, no environment variables."""
