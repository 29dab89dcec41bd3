import pandas


import pandas # == 1
