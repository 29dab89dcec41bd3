#%matplotlib inline
#!pip install lightgbm
import lightgbm
#%load_ext autoreload
