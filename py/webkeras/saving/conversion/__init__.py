"""Converting uploaded model files: which files make one model and what it converts to (the
upload rules: names, kinds, sizes, archives, no code), then the conversion itself. The server's
POST /api/convert runs `jobs.convert` in a child process; nothing here knows about HTTP."""
