"""crunch_cli: set up, test and push code-submission competitions.

This module is imported by every `crunch` invocation, so it imports nothing heavy.
"""

__version__ = "0.1.0"
