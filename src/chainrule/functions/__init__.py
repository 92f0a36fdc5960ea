"""chainrule's public tensor functions (``chainrule.add``, ``chainrule.cat``, ...), one file
per primitive kind: the functions whose primitives are in ``chainrule/ops/<kind>.py`` are in
``chainrule/functions/<kind>.py`` (or ``<kind>_<topic>.py`` when one file would pass ~400
lines). ``chainrule/__init__.py`` exports them; import them from their file."""
