"""Reports: a group's figures, the callers to call back, charts, the CSV table."""
