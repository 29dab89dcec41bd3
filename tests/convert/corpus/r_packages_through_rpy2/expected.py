from rpy2.robjects.packages import importr
import rpy2.robjects.packages as rpackages


utils = rpackages.importr('utils')
#utils.chooseCRANmirror(ind=1)
forecast = importr('forecast')


def infer(X_test):
    return forecast.auto_arima(X_test)


# @crunch/keep:none
#zoo = importr('zoo')
