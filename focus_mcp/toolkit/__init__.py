"""What every tool is built from: its spec and the server's state (base), the one check of a call's
arguments (arguments), the next step after an API error (advice), a tool's own arguments in a line (summary)."""
