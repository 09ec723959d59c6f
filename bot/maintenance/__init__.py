"""The maintainers' loop (docs/maintainers.md): from the press office's labels
to a better model, live without downtime.

`bot data add-corrections`, `bot train`, `bot compare`, `bot reload`; the
commands are wired in `commands.py`.
"""
