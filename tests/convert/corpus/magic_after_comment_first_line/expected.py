# install first
#%pip install x
import x
