"""The manager layer: specs, validation, revisions, refs, events."""
