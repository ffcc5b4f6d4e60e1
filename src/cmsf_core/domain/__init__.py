"""The functional core: immutable values and pure rules. No I/O, no clock, no globals.

Time is always an argument (``as_of``); nothing here imports the ports, the adapters,
Hypothesis or an I/O module (``tests/unit/test_architecture.py`` checks it).  The public
names are exported by :mod:`cmsf_core`; the modules here are where they live.
"""
