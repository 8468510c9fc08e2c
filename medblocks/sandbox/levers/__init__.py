"""The levers a tester pulls, none of them part of Medblocks: the `/_sandbox/` controls and
the faults applied to API requests."""
