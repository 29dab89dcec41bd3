import numpy # != 1.0
