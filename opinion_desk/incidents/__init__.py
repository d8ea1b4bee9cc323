"""incidents (filled in by its issue)."""
