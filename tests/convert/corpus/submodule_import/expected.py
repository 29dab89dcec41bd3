import a.b.c
from x.y import z
import os.path
