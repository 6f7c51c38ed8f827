"""Source adapters. Each module registers its connector type on import."""
