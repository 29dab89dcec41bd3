import os # == 1.0
import sys
import pandas
