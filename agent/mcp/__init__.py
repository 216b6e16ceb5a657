"""MCP configuration: where clients keep it, how its files parse, what one server entry says."""
