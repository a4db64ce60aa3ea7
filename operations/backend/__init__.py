"""What the state backend records, read directly and read only: stacks' state, the engine's update
history entries and its locks, on a file backend or PostgreSQL (location.py says where)."""
