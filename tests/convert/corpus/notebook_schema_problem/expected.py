import numpy
#x = numpy.ones(3)
