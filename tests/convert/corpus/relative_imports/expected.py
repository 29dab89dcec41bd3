from . import sibling
from .pkg import thing
import pandas
