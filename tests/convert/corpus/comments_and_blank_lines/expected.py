# a comment

import os  # why os


# the end
