"""Identity resolution across sources."""
