#files = !ls data
#result = %timeit -o f()
import os
