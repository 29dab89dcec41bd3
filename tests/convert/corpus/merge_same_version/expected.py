import pandas # == 1


from pandas import DataFrame # ==1
