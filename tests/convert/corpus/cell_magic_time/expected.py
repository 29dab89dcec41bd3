#%%time
import os
#model.fit(X)
