import numpy, scipy # >= 1.0
