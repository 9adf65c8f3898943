"""The call flow as data plus a pure state machine (no Flask, no database)."""
