"""Co-designed training: the sections that several organisations edit together."""
