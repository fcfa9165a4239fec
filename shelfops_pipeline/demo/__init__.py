"""`make demo` and `make ui`: the sandbox, connected demo merchants, the warehouse they fill."""
