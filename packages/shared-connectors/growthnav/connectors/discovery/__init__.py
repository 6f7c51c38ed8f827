"""Schema discovery: column profiling and field-map suggestions."""
