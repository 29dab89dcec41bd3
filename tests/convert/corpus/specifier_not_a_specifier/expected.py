import pandas # the best lib
from pandas import DataFrame #, Series
import numpy  # x > 0 here
