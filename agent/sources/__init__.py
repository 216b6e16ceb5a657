"""Sources read the machine, and only read it: files, folders, processes."""
