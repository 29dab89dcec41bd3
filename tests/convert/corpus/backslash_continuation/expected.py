#total = 1 + \
#    2
import os
