#!pip install a \
#    b
import a
