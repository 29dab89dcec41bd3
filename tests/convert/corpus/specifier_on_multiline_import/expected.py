from pandas import (
    DataFrame,
    Series,
)  # == 2.2
