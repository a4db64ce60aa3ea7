"""The project's files: customer stack files and their naming, environments, the program as data,
and writing a stack for an environment (what `clone`, `new` and `discover` share)."""
