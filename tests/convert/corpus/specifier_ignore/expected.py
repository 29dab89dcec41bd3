import internal_tool # @ignore
import pandas
