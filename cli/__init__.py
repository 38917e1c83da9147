"""The `evidence` command line: parses input, calls the core, renders output."""
