#"""A module docstring."""
import os
