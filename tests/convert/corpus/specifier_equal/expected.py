import pandas # == 1.3
