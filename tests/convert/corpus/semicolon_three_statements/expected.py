#a = 1;
import os; #b = 2  # note
